// Correlates what was read (rules, routes, pods): the traced paths joined to the endpoints and
// pods that answer, as `nodedoc svc` prints them.

import {NodedocError} from '../errors.js'
import {IptablesParseError, parseIptablesSave} from '../parse/iptables.js'
import type {SkippedLines} from '../parse/pasted-text.js'
import {IpvsParseError} from '../parse/ipvs.js'
import type {KubeProxyRules} from './gather.js'
import {type GroupSelector, traceIptables} from './iptables-trace.js'
import {type NodeNetwork, locateEndpoints} from './locate.js'
import {traceKubeProxyNft} from './nft-trace.js'
import {traceIpvs} from './ipvs-trace.js'
import type {ProxyTrace, ServiceTrace} from './types.js'

export interface SvcQuery {
  /** "name" or "namespace/name" */
  name?: string
  namespace?: string
  /** port name, or a port number */
  port?: string
  ip?: string
  protocol?: string
}

export interface SvcReport extends Omit<ProxyTrace, 'mode' | 'partial' | 'skipped' | 'missingEntryChains'> {
  /** iptables / nftables / ipvs / userspace / none, joined with "+" when several hold rules */
  mode: string
  /** Why the rules read are not whole rule sets (a pasted or cut capture); empty when they are. */
  partial: string[]
  /** Lines of the input that are not rules, one entry per kind. */
  skipped: SkippedLines[]
  /** kube-proxy entry chains (nat KUBE-SERVICES, KUBE-NODEPORTS) the rules read lack. */
  missingEntryChains: string[]
}

/** A rule set that cannot be read: says which one and where. */
export class RulesReadError extends NodedocError {}

function guard<T>(what: string, fn: () => T): T {
  try {
    return fn()
  } catch (error) {
    if (error instanceof IptablesParseError || error instanceof IpvsParseError || error instanceof SyntaxError || (error as Error).name === 'NftParseError') {
      throw new RulesReadError(`${what}: ${(error as Error).message}`)
    }
    throw error
  }
}

/** A rules file must hold at least one line iptables understands; a node's empty rule set is just empty. */
function parseIptablesFile(text: string, file: string | null) {
  const dump = parseIptablesSave(text)
  if (file !== null && dump.iptablesLines === 0) {
    const skipped = dump.skipped.map((s) => `${s.count} ${s.kind}`).join(', ')
    throw new IptablesParseError(`no iptables rule, chain or table in it${skipped ? ` (${skipped} line(s) skipped)` : ''}`)
  }
  return dump
}

/** Every trace the rules allow: iptables (IPv4, IPv6), kube-proxy's nftables table, IPVS. */
export function traceAll(rules: KubeProxyRules, select?: GroupSelector, hint?: string): ProxyTrace[] {
  const traces: ProxyTrace[] = []
  if (rules.iptables) {
    const file = rules.iptables.backend === 'file' ? rules.iptables.reason : null
    const label = file ?? `iptables-${rules.iptables.backend} (${rules.iptables.reason})`
    const v4 = guard(file ?? 'iptables-save', () => traceIptables(parseIptablesFile(rules.iptables!.ipv4, file), label, select, hint))
    traces.push(v4)
    if (/^-A KUBE-/m.test(rules.iptables.ipv6)) traces.push(guard('ip6tables-save', () => traceIptables(parseIptablesSave(rules.iptables!.ipv6), `${label}, IPv6`, select, hint)))
  }
  if (rules.nft) traces.push(...guard(rules.nft.source, () => traceKubeProxyNft(rules.nft!.text, rules.nft!.source)))
  if (rules.ipvs) traces.push(guard(rules.ipvs.source, () => traceIpvs(rules.ipvs!.text, rules.ipvs!.source, rules.ipvs!.serviceIps)))
  return traces
}

/** The namespace and name a query asks for; no namespace (no -n, no "ns/"): any namespace, as `pod` does. */
function wanted(q: SvcQuery): {namespace: string | undefined; name: string} {
  const slash = q.name!.indexOf('/')
  return slash < 0 ? {namespace: q.namespace, name: q.name!} : {namespace: q.name!.slice(0, slash), name: q.name!.slice(slash + 1)}
}

/** Whether "namespace/name" (a kube-proxy comment's service part) is the one the query names. */
function namesService(base: string, q: SvcQuery): boolean {
  const {namespace, name} = wanted(q)
  return namespace !== undefined ? base === `${namespace}/${name}` : base.slice(base.indexOf('/') + 1) === name
}

/** Text every rule of the wanted service carries in its comment: skips the rest unparsed. */
function nameHint(q: SvcQuery): string {
  const {namespace, name} = wanted(q)
  return namespace !== undefined ? `${namespace}/${name}` : `/${name}`
}

/** Text every rule of the one service a query names carries (its address, or its name); undefined for every service. */
export function queryHint(query: SvcQuery): string | undefined {
  return query.ip ?? (query.name ? nameHint(query) : undefined)
}

function matches(s: ServiceTrace, q: SvcQuery): boolean {
  if (q.protocol && s.protocol !== q.protocol.toLowerCase()) return false
  if (q.name) {
    if (!s.service) return false
    const [base, portName] = s.service.split(':')
    if (!namesService(base, q)) return false
    if (q.port && !q.ip) {
      const byName = portName === q.port
      const byNumber = /^\d+$/.test(q.port) && s.frontends.some((f) => f.port === Number(q.port))
      if (!byName && !byNumber) return false
    }
  }
  if (q.ip) {
    const hit = s.frontends.some((f) => f.ip === q.ip && (!q.port || f.port === Number(q.port)))
    if (!hit) return false
  }
  return true
}

/**
 * Traces, keeps what the query asks for, and follows each endpoint onward on the node the rules come from.
 * `net` null: the rules come from a file and no node's routes and pods go with them (locations unknown).
 */
export function buildSvcReport(rules: KubeProxyRules, net: NodeNetwork | null, query: SvcQuery = {}): SvcReport {
  // only what the query could match is traced: svc NAME on 30k services traces one
  const select: GroupSelector | undefined = query.name || query.ip
    ? (g) => {
      if (query.ip && !g.frontends.some((f) => f.ip === query.ip)) return false
      // groups no comment names cannot match a name
      if (query.name && (!g.service || !namesService(g.service.split(':')[0], query))) return false
      return true
    }
    : undefined
  // kube-proxy always comments service rules (only per-endpoint comments go above 1000 endpoints)
  const hint = queryHint(query)
  const traces = traceAll(rules, select, hint)
  const withRules = traces.filter((t) => t.mode !== 'none')
  const services = withRules.flatMap((t) => t.services).filter((s) => matches(s, query))
  const unresolved = withRules.flatMap((t) => t.unresolved).filter((u) => {
    if (query.ip) return u.ip === query.ip
    if (query.name) return u.service !== null && namesService(u.service.split(':')[0], query)
    return true
  })
  const notes = traces.flatMap((t) => t.notes)
  if (net) {
    locateEndpoints(services, net)
    if (net.pods.length === 0 && services.some((s) => s.endpoints.length)) notes.push('no pods found on this node: endpoints cannot be tied to pods')
  } else {
    for (const s of services) for (const e of [...s.endpoints, ...(s.localEndpoints ?? [])]) Object.assign(e, {location: 'unknown', route: null, pod: null, locationNote: 'rules from a file'})
    if (services.some((s) => s.endpoints.length)) notes.push("endpoint locations unknown (rules from a file): give --from SNAPSHOT for that node's routes and pods, or --live-routes for this machine's")
  }
  const problems = [...rules.problems, ...withRules.flatMap((t) => t.problems)]
  if (traces.length === 0) problems.push('no kube-proxy rules could be read (no iptables-save, nft or ipvsadm)')
  else if (withRules.length === 0) problems.push('no kube-proxy rules found (iptables, nftables or IPVS)')
  const chosen = withRules.length ? withRules : traces
  const checked = chosen.filter((t) => t.unreferencedChains)
  return {
    mode: [...new Set(chosen.map((t) => t.mode))].join('+') || 'none',
    source: chosen.map((t) => t.source).join('; '),
    masqueradeMark: chosen.find((t) => t.masqueradeMark)?.masqueradeMark ?? null,
    clusterCIDR: chosen.find((t) => t.clusterCIDR)?.clusterCIDR ?? null,
    services,
    unresolved,
    problems,
    notes,
    partial: [...new Set(chosen.flatMap((t) => t.partial ?? []))],
    skipped: chosen.flatMap((t) => t.skipped ?? []),
    missingEntryChains: [...new Set(chosen.flatMap((t) => t.missingEntryChains ?? []))],
    ...(checked.length ? {unreferencedChains: checked.flatMap((t) => t.unreferencedChains!), missingChains: checked.flatMap((t) => t.missingChains ?? [])} : {}),
  }
}
