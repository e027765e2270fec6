// What `why` reads about the node as a whole, once per Host however many links (or, in a
// snapshot recording, however many pods) ask: kube-proxy's rules and their traces, pods,
// routes, links, UDP conntrack entries, the kernel's OOM-kill lines.

import type {Host} from '../host/host.js'
import {type CgroupMounts, cgroupMountsOf, readHostMounts} from '../pods/cgroup-reader.js'
import {gatherHostLinks} from '../pods/links.js'
import {oncePerHost} from '../pods/once-per-host.js'
import {gatherPods} from '../pods/pods.js'
import {gatherHostRoutes} from '../pods/routes.js'
import type {PodReport} from '../pods/types.js'
import {type ConntrackEntry, parseConntrack} from '../parse/conntrack.js'
import {type IptablesDump, parseIptablesSave} from '../parse/iptables.js'
import {type OomKill, parseOomKills} from '../parse/kernel-log.js'
import {type KubeProxyRules, gatherKubeProxyRules} from '../svc/gather.js'
import {type SvcQuery, type SvcReport, buildSvcReport} from '../svc/correlate.js'

export const kubeProxyRules = oncePerHost((host) => gatherKubeProxyRules(host))
export const nodePods = oncePerHost(gatherPods)
export const nodeRoutes = gatherHostRoutes
export const nodeLinks = gatherHostLinks
export const cgroupMounts = oncePerHost(async (host): Promise<CgroupMounts> => cgroupMountsOf(await readHostMounts(host)))

const traces = new WeakMap<Host, Map<string, Promise<SvcReport>>>()

/** `svc`'s report for one query (a frontend address, a name), traced once per Host. */
export function serviceReport(host: Host, query: SvcQuery): Promise<SvcReport> {
  let byKey = traces.get(host)
  if (!byKey) traces.set(host, (byKey = new Map()))
  const key = JSON.stringify(query)
  let report = byKey.get(key)
  if (!report) {
    report = (async () => {
      const [rules, routes, pods] = await Promise.all([kubeProxyRules(host), nodeRoutes(host), nodePods(host)])
      return buildSvcReport(rules, {routes, pods}, query)
    })()
    byKey.set(key, report)
  }
  return report
}

/** kube-proxy's iptables rules, parsed (the hooks in the built-in chains); null when none were read. */
export const iptablesDump = oncePerHost(async (host): Promise<{v4: IptablesDump; v6: IptablesDump; rules: KubeProxyRules} | null> => {
  const rules = await kubeProxyRules(host)
  if (!rules.iptables) return null
  return {v4: parseIptablesSave(rules.iptables.ipv4), v6: parseIptablesSave(rules.iptables.ipv6), rules}
})

export interface ConntrackRead {
  entries: ConntrackEntry[]
  /** what was read: `conntrack -L -p udp` or /proc/1/net/nf_conntrack */
  source: string
}

/**
 * UDP conntrack entries of the node's network namespace: `conntrack -L -p udp`, else
 * /proc/1/net/nf_conntrack (PID 1 is in the node's netns). null when neither can be read.
 */
export const udpConntrack = oncePerHost(async (host): Promise<ConntrackRead | null> => {
  const result = await host.run(['conntrack', '-L', '-p', 'udp'], {timeoutMs: 30_000})
  if (result && result.exitCode === 0) return {entries: parseConntrack(result.stdout), source: 'conntrack -L -p udp'}
  const text = await host.readFile('/proc/1/net/nf_conntrack')
  if (text === undefined) return null
  return {entries: parseConntrack(text).filter((e) => e.protocol === 'udp'), source: '/proc/1/net/nf_conntrack'}
})

/** OOM kills the kernel logged (`dmesg`); null when the log cannot be read. */
export const kernelOomKills = oncePerHost(async (host): Promise<OomKill[] | null> => {
  const result = await host.run(['dmesg'])
  if (!result || result.exitCode !== 0) return null
  return parseOomKills(result.stdout)
})

/** The pod on this node that holds an address, if any. */
export async function podByIp(host: Host, ip: string): Promise<PodReport | undefined> {
  return (await nodePods(host)).find((p) => p.ips.includes(ip))
}
