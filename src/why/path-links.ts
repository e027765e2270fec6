// Links every packet to a Service depends on, whoever sends it (`why dns`, `why svc`): kube-proxy's
// hook, the endpoints and their shares, each endpoint's route and pod, the node's prerequisites
// and UDP conntrack entries that outlived their endpoint.

import {bridgeNfCallIptables, ipForward} from '../doctor/checks/sysctl.js'
import {conntrackTable} from '../doctor/checks/conntrack-table.js'
import type {Check} from '../doctor/check.js'
import type {Host} from '../host/host.js'
import type {PodReport} from '../pods/types.js'
import {parseNft} from '../parse/nft.js'
import {answers} from '../parse/sockets.js'
import {describeExit} from '../parse/runtime-status.js'
import type {EndpointTrace, ServiceTrace} from '../svc/types.js'
import {iptablesDump, kubeProxyRules, nodeLinks, nodePods, udpConntrack} from './facts.js'
import {containerLogFile, lastLogLines, netnsPid, readContainerExit, readSockets} from './pod-files.js'
import {type Judgement, type Link, broken, notReached, ok, unknown} from './types.js'

export interface PathContext {
  host: Host
  /** The pod that sends; null for the node itself (and hostNetwork pods send as the node). */
  source: PodReport | null
  protocol: 'udp' | 'tcp'
  /** The address and port the sender uses. */
  frontend?: {ip: string; port: number}
  /** The Service port kube-proxy's rules give that frontend. */
  service?: ServiceTrace
  /** Where packets go on: the service's endpoints, located; or the one pod a nameserver names directly. */
  targets?: EndpointTrace[]
}

const pct = (p: number) => `${Math.round(p * 1000) / 10}%`
const label = (pod: {namespace: string | null; name: string | null; uid: string}) => `${pod.namespace ?? '?'}/${pod.name ?? pod.uid}`

/** Whether the sender's packets enter nat at PREROUTING (a pod) or OUTPUT (the node, hostNetwork). */
function entryChain(context: PathContext): 'PREROUTING' | 'OUTPUT' {
  return context.source && !context.source.hostNetwork ? 'PREROUTING' : 'OUTPUT'
}

export const hookLink: Link<PathContext> = {
  name: 'kube-proxy hook',
  async check(context) {
    const service = context.service
    if (!service) return context.targets ? ok('no Service in between: nothing to hook') : notReached('no Service frontend')
    const entry = entryChain(context)
    if (service.mode === 'nftables') {
      const rules = await kubeProxyRules(context.host)
      const family = context.frontend?.ip.includes(':') ? 'ip6' : 'ip'
      const table = rules.nft ? parseNft(rules.nft.text).get(`${family} kube-proxy`) : undefined
      if (!table) return unknown(`table ${family} kube-proxy not read`)
      const chain = entry === 'PREROUTING' ? 'nat-prerouting' : 'nat-output'
      const jump = (table.chains.get(chain) ?? []).find((r) => /\bjump services\b/.test(r.text))
      if (jump) return ok(`${family} kube-proxy ${chain} jumps to services`, [`${family} kube-proxy ${chain}: ${jump.text}`])
      return broken(
        `${family} kube-proxy chain ${chain} ${table.chains.has(chain) ? 'does not jump to services' : 'is missing'}: packets to Services are not DNATed`,
        'restart kube-proxy (it rewrites its whole table); look for another agent that flushes or deletes nft tables',
        [`${family} kube-proxy chains: ${[...table.chains.keys()].filter((c) => c.startsWith('nat-')).join(', ') || 'none named nat-*'}`],
      )
    }
    // iptables and IPVS modes both enter through nat KUBE-SERVICES
    const dump = await iptablesDump(context.host)
    if (!dump) return unknown('no iptables rules read')
    const nat = (context.frontend?.ip.includes(':') ? dump.v6 : dump.v4).tables.get('nat')
    const chain = nat?.chains.get(entry)
    if (!chain) return unknown(`nat ${entry} not in the rules read`)
    const source = `iptables-${dump.rules.iptables!.backend}-save`
    for (const rule of chain.rules) {
      const target = rule.targetName
      if (target === 'KUBE-SERVICES') return ok(`nat ${entry} jumps to KUBE-SERVICES`, [`${source}: ${rule.text}`])
      // a rule ahead of the jump that ends every packet's nat walk
      if ((target === 'ACCEPT' || target === 'RETURN') && !rule.protocol && !rule.source && !rule.destination && !rule.inInterface && rule.matches.every((m) => m.module === 'comment')) {
        return broken(`nat ${entry} ends with ${target} before any jump to KUBE-SERVICES: packets to Services are not DNATed`, `delete that rule (iptables -t nat -D ${entry} ${rule.text.replace(/^-A \S+ /, '')})`, [`${source}: ${rule.text}`])
      }
    }
    return broken(
      `nat ${entry} does not jump to KUBE-SERVICES: packets to ${context.frontend?.ip ?? 'Services'} are not DNATed`,
      `restart kube-proxy (it re-adds its jumps), or: iptables -t nat -I ${entry} -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`,
      [`${source}: nat ${entry} has ${chain.rules.length} rule(s), none to KUBE-SERVICES`],
    )
  },
}

export const endpointsLink: Link<PathContext> = {
  name: 'endpoints',
  async check({service, targets}) {
    if (!service) return targets ? ok('the nameserver is a pod: no endpoints to pick') : notReached('no Service frontend')
    const endpoints = service.endpoints
    const evidence = endpoints.map((e) => `${e.ip}${e.port ? `:${e.port}` : ''} ${pct(e.probability)} of new connections (${e.chain})`)
    if (endpoints.length === 0) {
      return broken(
        `${service.service ?? 'the Service'} has no endpoints: ${service.verdict === 'DNAT' ? 'no endpoint rule' : service.verdict}`,
        'no ready pod backs the Service: check its pods and selector (kubectl get endpointslices); kube-proxy writes endpoint rules only for ready endpoints',
        [`${service.mode} ${service.chain ?? ''}: ${service.problems.join('; ') || 'no endpoint'}`.trim()],
      )
    }
    const sum = endpoints.reduce((s, e) => s + e.probability, 0)
    if (sum < 1 - 1e-6) {
      return broken(`endpoint shares in ${service.chain} sum to ${pct(sum)}: the rest of new connections is not DNATed`, 'let kube-proxy rewrite its rules (restart it); a rule was deleted or edited by hand', evidence)
    }
    return ok(`${endpoints.length} endpoint(s), shares sum to 100%`, evidence)
  },
}

/**
 * svc's locate compares the route's device with the pod's veth; on a bridge CNI the route names
 * the bridge and the veth is one of its ports, which is the healthy case.
 */
async function bridgedPort(host: Host, problem: string): Promise<boolean> {
  const m = /uses (\S+), but the pod's veth is (\S+)$/.exec(problem)
  if (!m) return false
  return (await nodeLinks(host)).find((l) => l.name === m[2])?.master === m[1]
}

export const endpointRouteLink: Link<PathContext> = {
  name: 'endpoint route',
  async check({host, targets}) {
    if (!targets?.length) return notReached('no endpoint')
    const evidence: string[] = []
    const bad: string[] = []
    for (const ep of targets) {
      const route = ep.route ? `${ep.route.destination ?? ''} dev ${ep.route.dev}${ep.route.via ? ` via ${ep.route.via}` : ''}`.trim() : 'no route'
      evidence.push(`${ep.ip}: ${route} (${ep.location}${ep.pod ? `, pod ${label(ep.pod)}` : ''})`)
      for (const p of ep.problems) if (!(await bridgedPort(host, p))) bad.push(p)
      // a pod of this node owns the address, but the node sends it elsewhere
      if (ep.pod && ep.location === 'remote') bad.push(`${ep.ip} belongs to pod ${label(ep.pod)} on this node, but the node routes it ${ep.route?.via ? `via ${ep.route.via}` : `out ${ep.route?.dev}`}`)
    }
    if (bad.length) return broken(bad.join('; '), 'restore the route to the pod: the CNI plugin adds it when the pod starts (bridge: the pod subnet on the bridge; ptp/calico: <pod IP> dev <veth>); `ip route` shows what is there', evidence)
    if (targets.every((e) => e.location === 'remote')) return ok('every endpoint is on another node (routed off this node)', evidence)
    return ok('each endpoint is routed to where its pod is', evidence)
  },
}

interface EndpointPodState {
  ep: EndpointTrace
  pod?: PodReport
  problem?: string
  evidence: string[]
}

async function endpointPodState(host: Host, ep: EndpointTrace, protocol: 'udp' | 'tcp'): Promise<EndpointPodState> {
  const evidence: string[] = []
  if (!ep.pod) return {ep, evidence}
  const pod = (await nodePods(host)).find((p) => p.uid === ep.pod!.uid)
  if (!pod) return {ep, evidence, problem: `pod ${label(ep.pod)} is gone`}
  const port = ep.port ?? 0
  for (const c of pod.containers) {
    const restarts = c.restartCount ? `, ${c.restartCount} restart(s)` : ''
    const oom = c.cgroup?.oomKills ? `, ${c.cgroup.oomKills} OOM kill(s)` : ''
    if (c.state === 'running') evidence.push(`${label(pod)} container ${c.name}: running, PID ${c.pid}${restarts}${oom}`)
    else {
      const exit = c.id ? await readContainerExit(host, c.id) : null
      const how = exit?.exitCode != null ? `${describeExit(exit.exitCode)}${exit.reason ? ` ${exit.reason}` : ''}${exit.finishedAt ? ` at ${exit.finishedAt}` : ''}` : 'no process'
      evidence.push(`${label(pod)} container ${c.name}: not running (${how})${restarts}`)
    }
  }
  const pid = netnsPid(pod)
  const running = pod.containers.filter((c) => c.state === 'running')
  for (const c of pod.containers) {
    const log = c.name ? containerLogFile(pod, c.name) : undefined
    if (log) for (const line of await lastLogLines(host, log.path, 2)) evidence.push(`${c.name} log: ${line}`)
  }
  if (running.length === 0) return {ep, pod, evidence, problem: `pod ${label(pod)} owns ${ep.ip}, but none of its containers runs: nothing answers on ${protocol} ${port}`}
  if (pid === null) return {ep, pod, evidence}
  const sockets = await readSockets(host, pid)
  const socket = answers(sockets, protocol, ep.ip, port)
  if (socket) evidence.push(`${protocol} ${socket.localAddress}:${socket.localPort} ${protocol === 'tcp' ? 'listening' : 'bound'} in its netns (/proc/${pid}/net/${protocol}${socket.family === 'ipv6' ? '6' : ''})`)
  else if (sockets.length) return {ep, pod, evidence, problem: `pod ${label(pod)} runs, but nothing in its network namespace ${protocol === 'tcp' ? 'listens on' : 'is bound to'} ${protocol} ${port} (/proc/${pid}/net/${protocol})`}
  return {ep, pod, evidence}
}

export const endpointPodLink: Link<PathContext> = {
  name: 'endpoint pod',
  async check({host, targets, protocol}) {
    if (!targets?.length) return notReached('no endpoint')
    const states = await Promise.all(targets.map((ep) => endpointPodState(host, ep, protocol)))
    const evidence = states.flatMap((s) => s.evidence)
    const dead = states.filter((s) => s.problem)
    if (dead.length) {
      const share = dead.reduce((sum, s) => sum + s.ep.probability, 0)
      const of = targets.length > 1 ? ` (${dead.length} of ${targets.length} endpoints, ${pct(share)} of new connections)` : ''
      return broken(dead.map((s) => s.problem).join('; ') + of, `see \`nodedoc why pod ${dead[0].pod?.name ?? dead[0].ep.pod?.name ?? ''} -n ${dead[0].pod?.namespace ?? dead[0].ep.pod?.namespace ?? ''}\`; until it runs again, kube-proxy keeps sending it traffic only if the pod still counts as ready`, evidence)
    }
    const local = states.filter((s) => s.pod)
    if (local.length === 0) return unknown('no endpoint pod runs on this node: the pods are on other nodes', evidence)
    return ok(`${local.length} endpoint pod(s) on this node run and answer on ${protocol} ${targets[0].port ?? ''}`.trim(), evidence)
  },
}

/** A doctor check as a link: PASS holds, FAIL breaks, WARN holds with the warning, SKIP is unknown. */
function fromCheck<F>(name: string, check: Check<F>, needed: (context: PathContext) => Promise<string | null>): Link<PathContext> {
  return {
    name,
    async check(context) {
      const notNeeded = await needed(context)
      if (notNeeded) return ok(`not on this path: ${notNeeded}`)
      const verdict = check.evaluate(await check.gather(context.host))
      if (verdict.status === 'FAIL') return broken(verdict.seen, verdict.fix ?? check.why, [verdict.seen, `why: ${check.why}`])
      if (verdict.status === 'SKIP') return unknown(verdict.seen)
      return ok(verdict.status === 'WARN' ? `${verdict.seen} (warning: ${verdict.fix})` : verdict.seen, [verdict.seen])
    },
  }
}

export const ipForwardLink = fromCheck('ip_forward', ipForward, async ({source}) => (!source || source.hostNetwork ? 'the node sends itself, nothing is forwarded' : null))

export const brNetfilterLink = fromCheck('br_netfilter', bridgeNfCallIptables, async ({host, source}) => {
  if (!source || source.hostNetwork) return 'the node sends itself'
  if (!source.hostVeth) return 'the pod has no node-side veth found'
  const link = (await nodeLinks(host)).find((l) => l.name === source.hostVeth!.name)
  return link?.master ? null : `${source.hostVeth.name} is on no bridge`
})

export const conntrackTableLink = fromCheck('conntrack table', conntrackTable, async () => null)

export const staleConntrackLink: Link<PathContext> = {
  name: 'conntrack entries',
  async check({host, protocol, frontend, service, targets}) {
    if (protocol !== 'udp') return ok('tcp: a new connection gets a new entry')
    if (!frontend || !service) return ok(targets ? 'no Service in between: no NAT entries' : 'not reached: no Service frontend')
    const read = await udpConntrack(host)
    if (!read) return unknown('no conntrack program and no /proc/net/nf_conntrack: UDP entries not read')
    const mine = read.entries.filter((e) => e.original.dst === frontend.ip && e.original.dport === frontend.port)
    const live = new Set(service.endpoints.map((e) => e.ip))
    const stale = mine.filter((e) => !live.has(e.reply.src))
    if (stale.length === 0) return ok(`${mine.length} UDP entr${mine.length === 1 ? 'y' : 'ies'} for ${frontend.ip}:${frontend.port}, each to a current endpoint`, [`${read.source}: ${mine.length} entries to ${frontend.ip}:${frontend.port}`])
    const byTarget = new Map<string, number>()
    for (const e of stale) byTarget.set(e.reply.src, (byTarget.get(e.reply.src) ?? 0) + 1)
    const evidence = stale.slice(0, 5).map((e) => `${read.source}: udp src=${e.original.src} sport=${e.original.sport} dst=${e.original.dst} dport=${e.original.dport} -> reply from ${e.reply.src}:${e.reply.sport} (${e.timeout ?? '?'} s left)${e.flags.length ? ` [${e.flags.join(',')}]` : ''}`)
    const parts = [...byTarget].map(([target, n]) => target === frontend.ip ? `${n} not DNATed (made while the Service had no endpoint)` : `${n} DNATed to ${target}, which is no endpoint now`)
    const fixes = [...byTarget.keys()].map((target) => target === frontend.ip ? `conntrack -D -p udp --orig-dst ${frontend.ip} --reply-src ${frontend.ip}` : `conntrack -D -p udp --orig-dst ${frontend.ip} --dst-nat ${target}`)
    return broken(
      `stale UDP conntrack entries for ${frontend.ip}:${frontend.port}: ${parts.join('; ')}: a client reusing those source ports is sent there until the entry expires`,
      `${fixes.join('; ')} (kube-proxy clears these when it removes an endpoint; see why it did not)`,
      evidence,
    )
  },
}

/** The links after the frontend, in the order a packet meets them (then the node's prerequisites). */
export const PATH_LINKS: Array<Link<PathContext>> = [hookLink, endpointsLink, endpointRouteLink, endpointPodLink, ipForwardLink, brNetfilterLink, conntrackTableLink, staleConntrackLink]

export type {Judgement}
