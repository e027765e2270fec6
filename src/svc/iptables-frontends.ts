// Where a Service's traffic enters kube-proxy's iptables rules: frontend rules of the fixed chains
// (nat KUBE-SERVICES, KUBE-NODEPORTS, the old KUBE-PORTALS-*), frontends only the filter table knows
// (no endpoints: REJECT / DROP), and, for captures that show service chains but not the rules that
// lead to them, those service chains themselves. Grouped per service port by the hash kube-proxy's
// chains share. Comments are read only to put a "namespace/name:port" on a group.

import {type IptablesRule, destinationPort} from '../parse/iptables.js'
import {FRONTEND_CHAINS, chainRole, isNodePortChain, isServiceChain, servicePortHash} from '../parse/kube-chains.js'
import {type TableWalker, exactAddress} from './iptables-walk.js'
import type {FrontendKind, UnresolvedFrontend} from './types.js'

export interface FrontendRule {
  rule: IptablesRule
  kind: FrontendKind
  ip: string | null
  /** 0: the rule names no destination port (any port) */
  port: number
  protocol: string
  localhost: boolean
}

export interface Group {
  key: string
  service: string | null
  protocol: string
  frontends: FrontendRule[]
  /** frontends known only from filter REJECT/DROP rules */
  filterOnly: FrontendRule[]
  chains: Set<string>
  /** Found from its service chain alone: the capture shows no frontend rule leading to it. */
  frontendless?: boolean
}

/** What a caller wants traced: service name (from comments) and frontend addresses are known before tracing. */
export type GroupSelector = (group: {service: string | null; protocol: string; frontends: Array<{ip: string | null; port: number}>}) => boolean

/** "ns/name:port" (or "ns/name", or "ns/name:" for an old unnamed port) out of a rule comment. */
export function serviceNameFromComment(comment: string | null): string | null {
  if (!comment) return null
  const m = /([a-z0-9]([-a-z0-9.]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)(:[-a-z0-9]*)?/i.exec(comment)
  return m ? m[0] : null
}

function singleAddress(rule: IptablesRule): string | null {
  const d = rule.destination
  return d && !d.negated ? exactAddress(d.cidr) : null
}

function frontendKind(rule: IptablesRule, nodePortChain: boolean): FrontendKind {
  if (nodePortChain) return 'nodePort'
  const comment = rule.comment ?? ''
  if (/external IP/i.test(comment)) return 'externalIP'
  if (/loadbalancer IP/i.test(comment)) return 'loadBalancer'
  const role = chainRole(rule.target?.name ?? '')
  if (role === 'service-firewall') return 'loadBalancer'
  if (role === 'service-external') return 'externalIP'
  return 'clusterIP'
}

export function frontendId(f: {kind: string; ip: string | null; port: number; protocol: string}, target: string): string {
  return `${f.kind}|${f.ip}|${f.port}|${f.protocol}|${target}`
}

/** The frontend a rule of a frontend chain stands for, if it is one. */
function frontendOf(rule: IptablesRule, nodePortChain: boolean): FrontendRule | null {
  const target = rule.target?.name
  if (!target || !isServiceChain(target)) return null
  const port = destinationPort(rule)
  // no --dport at all: iptables-save printed none (an older iptables than kube-proxy's): any port
  if (port && (port.negated || port.ports.length !== 1)) return null
  const protocol = rule.protocol?.name ?? 'tcp'
  let ip = singleAddress(rule)
  let localhost = false
  if (nodePortChain) {
    if (ip) return null
    localhost = !!rule.destination
  } else if (!ip) return null
  if (nodePortChain) ip = null
  return {rule, kind: frontendKind(rule, nodePortChain), ip, port: port ? port.ports[0] : 0, protocol, localhost}
}

function groupFor(groups: Map<string, Group>, key: string, protocol: string, service: string | null = null): Group {
  let group = groups.get(key)
  if (!group) {
    group = {key, service, protocol, frontends: [], filterOnly: [], chains: new Set()}
    groups.set(key, group)
  }
  return group
}

export interface Frontends {
  groups: Map<string, Group>
  unresolved: UnresolvedFrontend[]
  problems: string[]
  /** old userspace-mode chains (KUBE-PORTALS-*) hold the frontends */
  userspace: boolean
}

/** nat frontend rules, grouped per service port. `hint`: text every wanted rule holds (skips parsing the rest). */
export function collectFrontends(nat: TableWalker, hint: string | undefined): Frontends {
  const out: Frontends = {groups: new Map(), unresolved: [], problems: [], userspace: false}
  const seen = new Map<string, FrontendRule>()
  for (const chainName of FRONTEND_CHAINS) {
    const chain = nat.chain(chainName)
    if (!chain) continue
    if (chainRole(chainName) === 'portals') out.userspace = true
    const nodePortChain = isNodePortChain(chainName)
    for (const rule of chain.rules) {
      if (hint !== undefined && !rule.text.includes(hint)) continue
      const f = frontendOf(rule, nodePortChain)
      if (!f) continue
      const target = rule.target!.name
      // every service: its frontend rule is parsed again when its turn comes (10k parsed rules held meanwhile cost more)
      if (hint === undefined) rule.release()
      const id = frontendId(f, target)
      const known = seen.get(id)
      if (known) {
        // the same frontend again: a second copy in a pasted capture, or the NodePort's localhost rule
        if (f.localhost) known.localhost = true
        continue
      }
      seen.set(id, f)
      if (!nat.chain(target)) {
        out.unresolved.push({service: serviceNameFromComment(rule.comment), ip: f.ip, port: f.port, protocol: f.protocol, chain: target})
        out.problems.push(`${chainName} line ${rule.line}: ${f.ip ?? 'nodePort'}:${f.port || '*'}/${f.protocol} jumps to ${target}, which does not exist in the rules read`)
        continue
      }
      const group = groupFor(out.groups, servicePortHash(target) ?? target, f.protocol)
      group.service ??= serviceNameFromComment(rule.comment)
      group.chains.add(target)
      group.frontends.push(f)
    }
  }
  return out
}

/** Frontends only the filter table knows: services with no (local) endpoints are REJECTed or DROPped there. */
export function addFilterOnlyFrontends(filter: TableWalker, groups: Map<string, Group>): void {
  const natFrontends = new Set<string>()
  const byName = new Map<string, Group>()
  for (const g of groups.values()) {
    for (const f of g.frontends) natFrontends.add(`${f.ip}|${f.port}|${f.protocol}`)
    if (g.service !== null && !byName.has(`${g.service}|${g.protocol}`)) byName.set(`${g.service}|${g.protocol}`, g)
  }
  for (const chainName of ['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES']) {
    for (const rule of filter.chain(chainName)?.rules ?? []) {
      const target = rule.target?.name
      if (target !== 'REJECT' && target !== 'DROP') continue
      const port = destinationPort(rule)
      if (!port || port.ports.length !== 1) continue
      const ip = singleAddress(rule)
      const nodePort = !ip && rule.matches.some((m) => m.module === 'addrtype' && m.name === 'dst-type' && m.values[0] === 'LOCAL')
      if (!ip && !nodePort) continue
      const protocol = rule.protocol?.name ?? 'tcp'
      const where = `${ip}|${port.ports[0]}|${protocol}`
      if (natFrontends.has(where)) continue
      natFrontends.add(where)
      const service = serviceNameFromComment(rule.comment)
      const kind: FrontendKind = nodePort ? 'nodePort' : chainName === 'KUBE-SERVICES' ? 'clusterIP' : frontendKind(rule, false) === 'clusterIP' ? 'externalIP' : frontendKind(rule, false)
      // a service whose nat rules exist for other frontends joins that group
      const group = (service !== null ? byName.get(`${service}|${protocol}`) : undefined)
        ?? groupFor(groups, service ? `filter:${service}|${protocol}` : `filter:${where}`, protocol, service)
      group.filterOnly.push({rule, kind, ip, port: port.ports[0], protocol, localhost: false})
    }
  }
}

/**
 * Service chains no frontend rule in the rules read leads to (a capture of KUBE-SVC/KUBE-SEP chains alone):
 * each is a service port of its own, named by its comments, its frontends unknown.
 */
export function addFrontendlessGroups(nat: TableWalker, groups: Map<string, Group>, hint: string | undefined): void {
  const reached = new Set<string>()
  for (const name of FRONTEND_CHAINS) {
    for (const rule of nat.chain(name)?.rules ?? []) {
      const hash = servicePortHash(rule.targetName ?? '')
      if (hash) reached.add(hash)
    }
  }
  for (const g of groups.values()) reached.add(g.key)
  const candidates = new Map<string, string[]>()
  for (const name of nat.chainNames()) {
    const hash = servicePortHash(name)
    if (hash === null || reached.has(hash)) continue
    const list = candidates.get(hash)
    if (list) list.push(name)
    else candidates.set(hash, [name])
  }
  if (candidates.size === 0) return
  // chains other service chains jump to are reached through them (old userspace KUBE-SVC -> KUBE-SVC)
  const referenced = nat.referencedChains()
  for (const [hash, names] of candidates) {
    const roots = names.filter((n) => !referenced.has(n))
    if (roots.length === 0) continue
    const rules = names.flatMap((n) => nat.chain(n)!.rules)
    if (hint !== undefined && !rules.some((r) => r.text.includes(hint))) continue
    const named = rules.map((r) => serviceNameFromComment(r.comment)).find((n) => n !== null) ?? null
    const protocol = rules.map((r) => r.protocol?.name).find((p) => p !== undefined) ?? 'unknown'
    const group = groupFor(groups, hash, protocol, named)
    group.frontendless = true
    for (const n of names) group.chains.add(n)
  }
}

/** Health check NodePorts: filter KUBE-NODEPORTS ACCEPT rules, per service name. */
export function healthCheckPorts(filter: TableWalker): Map<string, number> {
  const out = new Map<string, number>()
  for (const rule of filter.chain('KUBE-NODEPORTS')?.rules ?? []) {
    const name = serviceNameFromComment(rule.comment)
    const port = destinationPort(rule)
    if (rule.target?.name === 'ACCEPT' && name && port?.ports.length === 1) out.set(name, port.ports[0])
  }
  return out
}
