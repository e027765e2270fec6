import type {Host} from '../host/host.js'
import {type PodQuery, gatherPods} from '../pods/pods.js'
import {gatherHostRoutes} from '../pods/routes.js'
import type {PodRef, PodReport} from '../pods/types.js'
import {type ConntrackEntry, natOf, parseConntrackTable} from '../parse/conntrack.js'
import {gatherKubeProxyRules} from '../svc/gather.js'
import {RulesReadError, type SvcQuery, buildSvcReport} from '../svc/correlate.js'
import {InsideError, lookupPod, podRef} from './target.js'
import type {ConntrackRecord} from './types.js'

// The node's connection tracking table, read-only: which connections to and from pods the
// kernel is tracking, and what it rewrote in them (a Service's DNAT to an endpoint, a
// masquerade). Read from the node's own network namespace (kthreadd's, as `pod` names the
// node's namespaces), else from `conntrack -L`.

export interface ConntrackQuery {
  pod?: PodQuery
  svc?: SvcQuery
}

/** The table as text, and where it came from. */
async function readTable(host: Host): Promise<{text: string; source: string}> {
  const status = await host.readFile('/proc/2/status')
  const pid = status && /^Name:\s+kthreadd$/m.test(status) ? 2 : 1
  const file = `/proc/${pid}/net/nf_conntrack`
  const text = await host.readFile(file)
  if (text !== undefined) return {text, source: file}
  // a kernel built without the procfs view: ask over netlink
  const run = await host.run(['conntrack', '-L', '-o', 'extended'], {timeoutMs: 60_000})
  if (run && run.exitCode === 0) return {text: run.stdout, source: 'conntrack -L'}
  const why = run ? `conntrack -L failed: ${run.stderr.trim().split('\n')[0]}` : host.root === undefined ? 'this snapshot holds no conntrack table' : 'and no conntrack program'
  throw new InsideError(`cannot read the conntrack table: no ${file} (is nf_conntrack loaded?), ${why}`, 3)
}

/** A frontend of the Service: protocol, address (null: any of the node's own, a NodePort) and port. */
interface Frontend {
  protocol: string
  ip: string | null
  port: number
  service: string | null
}

async function serviceFrontends(host: Host, query: SvcQuery, pods: PodReport[]): Promise<{frontends: Frontend[]; local: Set<string>}> {
  const [rules, routes] = await Promise.all([gatherKubeProxyRules(host), gatherHostRoutes(host)])
  let report
  try {
    report = buildSvcReport(rules, {routes, pods}, query)
  } catch (error) {
    if (error instanceof RulesReadError) throw new InsideError(error.message, 3)
    throw error
  }
  const wanted = query.name!.includes('/') || !query.namespace ? query.name! : `${query.namespace}/${query.name}`
  if (report.services.length === 0) throw new InsideError(`service ${wanted} not found in kube-proxy's rules (${report.mode}: ${report.source})`, 1)
  const frontends = report.services.flatMap((s) => s.frontends.map((f) => ({protocol: s.protocol, ip: f.kind === 'nodePort' ? null : f.ip, port: f.port, service: s.service})))
  const local = new Set(routes.filter((r) => r.type === 'local').map((r) => r.destination.split('/')[0]))
  return {frontends, local}
}

function end(pods: Map<string, PodReport>, address: string): ConntrackRecord['client'] {
  const pod = pods.get(address)
  return pod ? {pod: podRef(pod), address} : null
}

function toRecord(entry: ConntrackEntry, byIp: Map<string, PodReport>, service: string | null): ConntrackRecord {
  return {
    family: entry.family,
    protocol: entry.protocol,
    state: entry.state,
    timeoutSeconds: entry.timeout,
    ageSeconds: entry.ageSeconds,
    original: entry.original,
    reply: entry.reply,
    nat: natOf(entry),
    flags: entry.flags,
    mark: entry.mark,
    zone: entry.zone,
    client: end(byIp, entry.original.src),
    // the reply comes from whoever really answers: the endpoint, after a DNAT
    server: end(byIp, entry.reply.src),
    service,
  }
}

const addresses = (e: ConntrackEntry) => [e.original.src, e.original.dst, e.reply.src, e.reply.dst]

/**
 * Only lines that can name one of these IPv4 addresses are parsed: a busy node tracks a few
 * hundred thousand connections and a pod is in a handful.
 */
function prefilter(text: string, ips: string[]): string {
  if (ips.length === 0 || ips.some((ip) => ip.includes(':'))) return text
  const needles = ips.map((ip) => `=${ip} `)
  return text.split('\n').filter((line) => needles.some((n) => line.includes(n))).join('\n')
}

/** The entries that involve a pod (or a Service's frontends, or any pod of this node), tied to the pods at both ends. */
export async function gatherConntrack(host: Host, query: ConntrackQuery = {}): Promise<ConntrackRecord[]> {
  const pods = await gatherPods(host)
  const byIp = new Map<string, PodReport>()
  for (const pod of pods) for (const ip of pod.ips) byIp.set(ip, pod)
  const target = query.pod ? await lookupPod(host, query.pod) : undefined
  const svc = query.svc ? await serviceFrontends(host, query.svc, pods) : undefined
  const table = await readTable(host)

  const podIps = target ? target.ips : [...byIp.keys()]
  if (target && podIps.length === 0) {
    throw new InsideError(`pod ${target.namespace}/${target.name} has no address of its own${target.hostNetwork ? ' (hostNetwork: its connections are the node\'s)' : ''}`, 1)
  }
  const wantedIps = svc ? [...new Set(svc.frontends.map((f) => f.ip).filter((ip): ip is string => ip !== null))] : podIps
  const text = svc?.frontends.some((f) => f.ip === null) ? table.text : prefilter(table.text, wantedIps)
  const {entries, bad} = parseConntrackTable(text)
  if (bad) host.warnings.add('bad:conntrack', `${bad} unparseable conntrack lines skipped`, table.source)

  const records: ConntrackRecord[] = []
  const wanted = new Set(podIps)
  for (const entry of entries) {
    if (svc) {
      const hit = svc.frontends.find((f) => f.protocol === entry.protocol && f.port === entry.original.dport && (f.ip === null ? svc.local.has(entry.original.dst) : f.ip === entry.original.dst))
      if (hit) records.push(toRecord(entry, byIp, hit.service))
      continue
    }
    if (addresses(entry).some((a) => wanted.has(a))) records.push(toRecord(entry, byIp, null))
  }
  return records.sort(order)
}

function podName(ref: PodRef | undefined): string {
  return ref ? `${ref.namespace}/${ref.name}` : '~'
}

function order(a: ConntrackRecord, b: ConntrackRecord): number {
  const key = (r: ConntrackRecord) => `${podName(r.client?.pod)} ${podName(r.server?.pod)} ${r.protocol} ${r.original.dst} ${String(r.original.dport).padStart(5, '0')} ${r.original.src} ${String(r.original.sport).padStart(5, '0')}`
  const ka = key(a)
  const kb = key(b)
  return ka < kb ? -1 : ka > kb ? 1 : 0
}
