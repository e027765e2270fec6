// From a parsed iptables dump to one record per service port: frontends found in kube-proxy's
// fixed chains (KUBE-SERVICES, KUBE-NODEPORTS, the old KUBE-PORTALS-*), endpoints found by
// walking the rules (never by reading comments), filter verdicts for what nat leaves alone.
// Comments are read only to put a "namespace/name:port" on what the structure found.

import type {IptablesDump, IptablesRule} from '../parse/iptables.js'
import {destinationPort} from '../parse/iptables.js'
import {type Outcome, type Packet, TableWalker, type WalkHop, exactAddress} from './iptables-walk.js'
import type {EndpointTrace, Frontend, FrontendKind, PathHop, ProxyTrace, ServiceTrace, UnresolvedFrontend, Verdict} from './types.js'

/** nat chains kube-proxy's frontend rules live in (iptables mode, and the old userspace mode). */
const FRONTEND_CHAINS = ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-PORTALS-CONTAINER', 'KUBE-PORTALS-HOST', 'KUBE-NODEPORT-CONTAINER', 'KUBE-NODEPORT-HOST']
const NODEPORT_CHAINS = new Set(['KUBE-NODEPORTS', 'KUBE-NODEPORT-CONTAINER', 'KUBE-NODEPORT-HOST'])
/** filter chains that hold kube-proxy's REJECT/DROP rules, in the order a packet meets them. */
const FILTER_CHAINS = ['KUBE-PROXY-FIREWALL', 'KUBE-NODEPORTS', 'KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES']
/** Per-service-port chains: one hash, several roles. */
const SERVICE_CHAIN = /^KUBE-(SVC|SVL|EXT|FW|XLB)-([A-Z0-9]+)$/
const PER_SERVICE_CHAIN = /^KUBE-(SVC|SVL|EXT|FW|XLB|SEP)-/
const STANDALONE_CHAINS = new Set(['KUBE-MARK-DROP', 'KUBE-MARK-MASQ', 'KUBE-KUBELET-CANARY', 'KUBE-PROXY-CANARY', 'KUBE-IPTABLES-HINT'])
const PROBABILITY_TOLERANCE = 1e-6

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
  const target = rule.target?.name ?? ''
  if (target.startsWith('KUBE-FW-')) return 'loadBalancer'
  if (target.startsWith('KUBE-EXT-')) return 'externalIP'
  return 'clusterIP'
}

interface FrontendRule {
  rule: IptablesRule
  kind: FrontendKind
  ip: string | null
  port: number
  protocol: string
  localhost: boolean
}

interface Group {
  key: string
  service: string | null
  protocol: string
  frontends: FrontendRule[]
  /** frontends known only from filter REJECT/DROP rules */
  filterOnly: FrontendRule[]
  chains: Set<string>
}

function groupKey(target: string): string {
  const m = SERVICE_CHAIN.exec(target)
  return m ? m[2] : target
}

function describe(verdictRule: IptablesRule | undefined, target: string, table: string, chain: string): Verdict {
  return {target, table, chain, rule: verdictRule?.text ?? null, comment: verdictRule?.comment ?? null}
}

export function verdictText(v: Verdict | null): string {
  if (!v) return 'DNAT'
  return `${v.target} (${v.table} ${v.chain}${v.comment ? ` "${v.comment}"` : ''})`
}

function round(p: number): number {
  return Math.round(p * 1e12) / 1e12
}

/** What a caller wants traced: service name (from comments) and frontend addresses are known before tracing. */
export type GroupSelector = (group: {service: string | null; protocol: string; frontends: Array<{ip: string | null; port: number}>}) => boolean

/** Traces every service port in an iptables dump (or those `select` keeps). */
export function traceIptables(dump: IptablesDump, source = 'iptables', select?: GroupSelector, hint?: string): ProxyTrace {
  const nat = new TableWalker(dump, 'nat')
  const filter = new TableWalker(dump, 'filter')
  const natTable = dump.tables.get('nat')
  const problems: string[] = []
  const notes = [...dump.notes]
  for (const w of dump.warnings) notes.push(`iptables-save: ${w}`)
  for (const table of dump.tables.values()) {
    for (const chain of table.deleted) notes.push(`${table.name}: chain ${chain} deleted (-X) by this input`)
    const undeclared = [...table.chains.values()].filter((c) => !c.declared).map((c) => c.name)
    if (undeclared.length) notes.push(`${table.name}: ${undeclared.length} chain(s) have rules but no declaration (partial input?): ${undeclared.slice(0, 5).join(', ')}${undeclared.length > 5 ? ', ...' : ''}`)
  }

  // Where a packet enters nat: PREROUTING when the dump has it, else KUBE-SERVICES itself.
  let root = 'KUBE-SERVICES'
  if (natTable?.chains.has('PREROUTING')) {
    root = 'PREROUTING'
    const hooked = natTable.chains.get('PREROUTING')!.rules.some((r) => r.target?.name === 'KUBE-SERVICES' || r.target?.name.startsWith('KUBE-PORTALS'))
    if (!hooked && natTable.chains.has('KUBE-SERVICES')) problems.push('nat PREROUTING does not jump to KUBE-SERVICES: kube-proxy rules are not hooked in')
  } else if (natTable?.chains.has('KUBE-SERVICES')) {
    notes.push('nat PREROUTING/OUTPUT not in this input: tracing from KUBE-SERVICES')
  }
  if (!natTable) notes.push('no nat table in this input: no frontend can be traced')
  else if (!natTable.chains.has('KUBE-SERVICES') && !natTable.chains.has('KUBE-PORTALS-CONTAINER')) {
    notes.push(FRONTEND_CHAINS.some((c) => natTable.chains.has(c))
      ? 'nat KUBE-SERVICES not in this input (truncated?): only the NodePort frontends it holds can be traced'
      : 'nat KUBE-SERVICES not in this input (truncated?): endpoints cannot be tied to frontends')
  }

  // 1. frontends, grouped by service port
  const groups = new Map<string, Group>()
  const unresolved: UnresolvedFrontend[] = []
  const seen = new Set<string>()
  let userspace = false
  for (const chainName of FRONTEND_CHAINS) {
    const chain = natTable?.chains.get(chainName)
    if (!chain) continue
    if (chainName.startsWith('KUBE-PORTALS') || chainName.startsWith('KUBE-NODEPORT-')) userspace = true
    const nodePortChain = NODEPORT_CHAINS.has(chainName)
    for (const rule of chain.rules) {
      // a query names an address or a service: rules whose text lacks it need no parsing
      if (hint !== undefined && !rule.text.includes(hint)) continue
      const target = rule.target?.name
      if (!target || target === 'KUBE-NODEPORTS' || target.startsWith('KUBE-MARK-')) continue
      const port = destinationPort(rule)
      if (!port || port.negated || port.ports.length !== 1) continue
      const protocol = rule.protocol?.name ?? 'tcp'
      let ip = singleAddress(rule)
      let localhost = false
      if (nodePortChain && rule.destination && !ip) {
        localhost = true
      } else if (nodePortChain) {
        ip = null
      } else if (!ip) continue
      if (nodePortChain && ip) continue
      const kind = frontendKind(rule, nodePortChain)
      const id = `${kind}|${ip}|${port.ports[0]}|${protocol}|${target}`
      if (seen.has(id)) {
        if (localhost) for (const g of groups.values()) for (const f of g.frontends) if (`${f.kind}|${f.ip}|${f.port}|${f.protocol}|${f.rule.target?.name}` === id) f.localhost = true
        continue
      }
      seen.add(id)
      if (!nat.chain(target) && nat.isJumpTarget(target, rule)) {
        unresolved.push({service: serviceNameFromComment(rule.comment), ip, port: port.ports[0], protocol, chain: target})
        problems.push(`${chainName} line ${rule.line}: ${ip ?? 'nodePort'}:${port.ports[0]}/${protocol} jumps to ${target}, which does not exist`)
        continue
      }
      const key = groupKey(target)
      let group = groups.get(key)
      if (!group) {
        group = {key, service: null, protocol, frontends: [], filterOnly: [], chains: new Set()}
        groups.set(key, group)
      }
      group.service ??= serviceNameFromComment(rule.comment)
      group.chains.add(target)
      group.frontends.push({rule, kind, ip, port: port.ports[0], protocol, localhost})
    }
  }

  // 2. frontends that only the filter table knows (no endpoints: REJECT / DROP)
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
      if (natFrontends.has(`${ip}|${port.ports[0]}|${protocol}`)) continue
      natFrontends.add(`${ip}|${port.ports[0]}|${protocol}`)
      const service = serviceNameFromComment(rule.comment)
      const kind: FrontendKind = nodePort ? 'nodePort' : chainName === 'KUBE-SERVICES' ? 'clusterIP' : frontendKind(rule, false) === 'clusterIP' ? 'externalIP' : frontendKind(rule, false)
      const key = service ? `filter:${service}|${protocol}` : `filter:${ip}|${port.ports[0]}|${protocol}`
      // a service whose nat rules exist for other frontends joins that group
      const existing = service !== null ? byName.get(`${service}|${protocol}`) : undefined
      let group = existing ?? groups.get(key)
      if (!group) {
        group = {key, service, protocol, frontends: [], filterOnly: [], chains: new Set()}
        groups.set(key, group)
      }
      group.filterOnly.push({rule, kind, ip, port: port.ports[0], protocol, localhost: false})
    }
  }

  const healthChecks = new Map<string, number>()
  for (const rule of filter.chain('KUBE-NODEPORTS')?.rules ?? []) {
    const name = serviceNameFromComment(rule.comment)
    const port = destinationPort(rule)
    if (rule.target?.name === 'ACCEPT' && name && port?.ports.length === 1) healthChecks.set(name, port.ports[0])
  }

  // 3. trace each group
  const services: ServiceTrace[] = []
  const clusterCidrs = new Map<string, number>()
  for (const group of groups.values()) {
    if (select && !select({service: group.service, protocol: group.protocol, frontends: [...group.frontends, ...group.filterOnly]})) continue
    const trace = traceGroup(group, nat, filter, root, healthChecks, userspace)
    services.push(trace)
    for (const m of trace.masquerade) {
      const c = /^from not (\S+)/.exec(m.when)
      if (c && m.chain.startsWith('KUBE-SVC-')) clusterCidrs.set(c[1], (clusterCidrs.get(c[1]) ?? 0) + 1)
    }
  }

  // 4. chains nothing jumps to: a whole-dump question, asked when the whole dump is traced
  if (select) notes.push('unreferenced-chain checks skipped for a single service: svc -A runs them')
  for (const table of select ? [] : dump.tables.values()) {
    const referenced = new Set<string>()
    for (const chain of table.chains.values()) for (const rule of chain.rules) {
      const target = rule.targetName
      if (target) referenced.add(target)
    }
    const hasBuiltins = [...table.chains.values()].some((c) => c.policy !== null)
    for (const chain of table.chains.values()) {
      if (chain.policy !== null || referenced.has(chain.name) || STANDALONE_CHAINS.has(chain.name)) continue
      if (PER_SERVICE_CHAIN.test(chain.name)) {
        const dnat = chain.rules.find((r) => r.target?.name === 'DNAT')
        const what = dnat ? ` (DNAT ${dnat.target!.options['to-destination']?.[0]}${dnat.comment ? `, ${serviceNameFromComment(dnat.comment) ?? dnat.comment}` : ''})` : ''
        problems.push(`${table.name} chain ${chain.name}${what} is not jumped to by any rule${table.guessed ? ' (in this excerpt)' : ''}`)
      } else if (hasBuiltins && chain.name.startsWith('KUBE-')) {
        problems.push(`${table.name} chain ${chain.name} is not jumped to by any rule`)
      }
    }
  }

  const masqueradeMark = nat.masqueradeMark()
  const clusterCIDR = [...clusterCidrs.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null
  // kube-proxy's chains being there is what makes this iptables mode, also when the query matched none
  const frontendRules = FRONTEND_CHAINS.some((name) => (natTable?.chains.get(name)?.rules.length ?? 0) > 0)
  let mode: ProxyTrace['mode'] = frontendRules || services.length || unresolved.length ? 'iptables' : 'none'
  if (userspace) {
    mode = 'userspace'
    notes.push('userspace-mode kube-proxy rules (KUBE-PORTALS-*): DNAT lives in KUBE-SVC-* chains, no KUBE-SEP-*')
  }
  const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
  services.sort((a, b) => order(a.service ?? '', b.service ?? '') || order(a.frontends[0]?.ip ?? '', b.frontends[0]?.ip ?? ''))
  for (const p of nat.problems) if (!problems.includes(p)) problems.push(p)
  return {mode, source, masqueradeMark, clusterCIDR, services, unresolved, problems, notes}
}

function packetFor(f: FrontendRule): Packet {
  return {dst: f.ip, dport: f.port, protocol: f.protocol, dstLocal: f.kind === 'nodePort' ? true : false}
}

/** What the filter table does with a packet nat left alone. */
function filterVerdict(filter: TableWalker, packet: Packet): Verdict | null {
  const roots = filter.chain('FORWARD') && filter.chain('INPUT')
    ? [packet.dst === null ? 'INPUT' : 'FORWARD']
    : FILTER_CHAINS.filter((c) => filter.chain(c))
  for (const root of roots) {
    const result = filter.walk(root, packet)
    const hit = result.outcomes.find((o) => o.conditions.length === 0 && o.target !== 'DANGLING')
    if (hit) return describe(hit.rule, hit.target, 'filter', hit.rule.chain)
    if (roots.length === 1 && filter.chain(root)?.policy) return describe(undefined, filter.chain(root)!.policy!, 'filter', root)
  }
  return null
}

function traceGroup(group: Group, nat: TableWalker, filter: TableWalker, root: string, healthChecks: Map<string, number>, userspace: boolean): ServiceTrace {
  const problems: string[] = []
  const frontends: Frontend[] = []
  const path: PathHop[] = []
  const pathSeen = new Set<string>()
  const addPath = (hops: WalkHop[]) => {
    for (const h of hops) {
      const id = `${h.table}|${h.chain}|${h.line}`
      if (pathSeen.has(id)) continue
      pathSeen.add(id)
      const hop: PathHop = {table: h.table, chain: h.chain, rule: h.rule}
      if (h.probability !== undefined) hop.probability = round(h.probability)
      if (h.condition) hop.condition = h.condition
      path.push(hop)
    }
  }

  let primaryVerdict: Verdict | null | undefined
  let primaryOutcomes: Outcome[] | undefined
  let primary: FrontendRule | undefined = group.frontends.find((f) => f.kind === 'clusterIP') ?? group.frontends[0]
  for (const f of group.frontends) {
    const packet = packetFor(f)
    // an excerpt may lack KUBE-SERVICES: start at the frontend's own chain then
    const start = nat.chain(root) ? root : f.rule.chain
    const walked = nat.walk(start, packet)
    const target = f.rule.target!.name
    const dnatMass = walked.outcomes.filter((o) => o.target === 'DNAT' && o.conditions.length === 0).reduce((s, o) => s + o.probability, 0)
    // conditions only matter for what the unconditional split leaves; affinity just repeats an earlier choice
    const dnatWhen = dnatMass >= 1 - PROBABILITY_TOLERANCE ? [] : [...new Set(walked.outcomes
      .filter((o) => o.target === 'DNAT' && o.conditions.length > 0)
      .map((o) => o.conditions.filter((c) => !c.endsWith('(session affinity)')).join(', '))
      .filter(Boolean))]
    const rest = Math.max(0, 1 - dnatMass)
    let otherwise: Verdict | null = null
    if (rest > PROBABILITY_TOLERANCE) {
      const natDrop = walked.outcomes.find((o) => o.target !== 'DNAT' && o.conditions.length === 0)
      otherwise = natDrop ? describe(natDrop.rule, natDrop.target, 'nat', natDrop.rule.chain) : filterVerdict(filter, packet) ?? {target: 'none', table: 'nat', chain: start, rule: null, comment: 'not DNATed: delivered to the address itself'}
    }
    const frontend: Frontend = {kind: f.kind, ip: f.ip, port: f.port, chain: target, dnatProbability: round(dnatMass), dnatWhen, otherwise}
    if (f.localhost) frontend.localhost = true
    if (target.startsWith('KUBE-FW-')) {
      frontend.via = target
      frontend.sourceRanges = (nat.chain(target)?.rules ?? []).filter((r) => r.source && !r.source.negated && r.target && nat.chain(r.target.name)).map((r) => r.source!.cidr)
    }
    frontends.push(frontend)
    if (f === primary) {
      primaryOutcomes = walked.outcomes
      addPath(walked.outcomes.flatMap((o) => o.path))
      primaryVerdict = otherwise
    }
    for (const p of walked.problems) if (!problems.includes(p)) problems.push(p)
  }
  for (const f of group.filterOnly) {
    const verdict = filterVerdict(filter, packetFor(f))
    frontends.push({kind: f.kind, ip: f.ip, port: f.port, chain: null, dnatProbability: 0, dnatWhen: [], otherwise: verdict})
    if (!primary || (f.kind === 'clusterIP' && primary.kind !== 'clusterIP')) {
      primary = f
      primaryVerdict = verdict
      path.length = 0
      if (verdict?.rule) path.push({table: 'filter', chain: verdict.chain, rule: verdict.rule})
    }
  }

  // the chain that picks an endpoint
  const hash = /^KUBE-(?:SVC|SVL|EXT|FW|XLB)-([A-Z0-9]+)$/.exec([...group.chains][0] ?? '')?.[1]
  let chain: string | null = null
  if (hash && nat.chain(`KUBE-SVC-${hash}`)) chain = `KUBE-SVC-${hash}`
  else if (hash && nat.chain(`KUBE-SVL-${hash}`)) chain = `KUBE-SVL-${hash}`
  else if (primary && group.frontends.includes(primary)) chain = primary.rule.target!.name
  const packet: Packet = primary ? packetFor(primary) : {dst: null, dport: 0, protocol: group.protocol, dstLocal: null}
  const direct = primary && group.frontends.includes(primary) && primary.rule.target?.name === chain ? primaryOutcomes : undefined
  const picked = chain ? endpointsOf(nat, chain, packet, direct) : {endpoints: [], affinity: null, masquerade: [], sum: 0}
  let localEndpoints: EndpointTrace[] | undefined
  if (hash && chain === `KUBE-SVC-${hash}` && nat.chain(`KUBE-SVL-${hash}`)) localEndpoints = endpointsOf(nat, `KUBE-SVL-${hash}`, packet).endpoints

  const endpoints = picked.endpoints
  if (endpoints.length === 0) problems.push(primaryVerdict ? `no endpoints: ${verdictText(primaryVerdict)}` : 'no endpoints')
  else if (Math.abs(picked.sum - 1) > PROBABILITY_TOLERANCE) problems.push(`endpoint probabilities in ${chain} sum to ${round(picked.sum)}, not 1: ${round(1 - picked.sum)} of new connections fall through un-DNATed`)

  // traffic policies, from structure
  let externalTrafficPolicy: ServiceTrace['externalTrafficPolicy'] = null
  const ext = hash ? nat.chain(`KUBE-EXT-${hash}`) ?? nat.chain(`KUBE-XLB-${hash}`) : undefined
  if (ext) {
    const unconditionalToSvc = ext.rules.some((r) => r.target?.name === `KUBE-SVC-${hash}` && !r.source && r.matches.every((m) => m.module === 'comment'))
    externalTrafficPolicy = unconditionalToSvc ? 'Cluster' : 'Local'
  } else if (frontends.some((f) => f.kind !== 'clusterIP')) {
    externalTrafficPolicy = frontends.some((f) => f.otherwise?.comment?.includes('no local endpoints')) ? 'Local' : 'Cluster'
  }
  let internalTrafficPolicy: ServiceTrace['internalTrafficPolicy'] = null
  const clusterFrontend = group.frontends.find((f) => f.kind === 'clusterIP')
  if (clusterFrontend) internalTrafficPolicy = clusterFrontend.rule.target!.name.startsWith('KUBE-SVL-') ? 'Local' : 'Cluster'
  else {
    const filtered = frontends.find((f) => f.kind === 'clusterIP' && f.otherwise)
    if (filtered) internalTrafficPolicy = filtered.otherwise!.target === 'DROP' ? 'Local' : 'Cluster'
  }

  const primaryDnat = frontends.find((f) => primary && f.kind === primary.kind && f.ip === primary.ip && f.port === primary.port)?.dnatProbability ?? 0
  const verdict = !primaryVerdict ? 'DNAT' : primaryDnat > 0 ? `DNAT, else ${verdictText(primaryVerdict)}` : verdictText(primaryVerdict)
  const name = group.service ?? null
  return {
    service: name,
    protocol: group.protocol,
    mode: userspace ? 'userspace' : 'iptables',
    chain,
    frontends,
    endpoints,
    ...(localEndpoints ? {localEndpoints} : {}),
    sessionAffinity: picked.affinity,
    masquerade: picked.masquerade,
    externalTrafficPolicy,
    internalTrafficPolicy,
    healthCheckNodePort: name ? healthChecks.get(name) ?? null : null,
    verdict,
    problems,
    path,
  }
}

/** Walks the endpoint-picking chain: each DNAT reached, with its effective probability. */
/**
 * The part of a frontend's walk that starts in `chain`, when the way there was plain (no
 * condition, no split, no mark): then it is the same as walking `chain` itself, for free.
 */
function reuse(prior: Outcome[] | undefined, chain: string): {outcomes: Outcome[]} | undefined {
  if (!prior) return undefined
  const outcomes: Outcome[] = []
  for (const o of prior) {
    const at = o.path.findIndex((h) => h.chain === chain)
    if (at < 0) {
      if (o.conditions.length === 0) return undefined // an unconditional end elsewhere: the plain way was not plain
      continue
    }
    for (let i = 0; i < at; i++) if (o.path[i].condition || o.path[i].probability !== undefined) return undefined
    const before = new Set(o.path.slice(0, at).map((h) => h.chain))
    if (o.masquerade.some((m) => before.has(m.chain))) return undefined
    outcomes.push({...o, path: o.path.slice(at)})
  }
  return {outcomes}
}

export function endpointsOf(nat: TableWalker, chain: string, packet: Packet, prior?: Outcome[]): {endpoints: EndpointTrace[]; affinity: ServiceTrace['sessionAffinity']; masquerade: Array<{chain: string; when: string}>; sum: number} {
  const walked = reuse(prior, chain) ?? nat.walk(chain, packet)
  const byKey = new Map<string, EndpointTrace>()
  let affinity: ServiceTrace['sessionAffinity'] = null
  const masquerade = new Map<string, {chain: string; when: string}>()
  let sum = 0
  const add = (o: Outcome) => {
    const key = `${o.rule.chain}|${o.dnat!.ip}|${o.dnat!.port}`
    const first = o.path[0]
    const conditional = o.conditions.length > 0
    let ep = byKey.get(key)
    if (!ep) {
      ep = {
        ip: o.dnat!.ip, port: o.dnat!.port, probability: 0, ruleProbability: null, chain: o.rule.chain,
        location: 'unknown', pod: null, route: null, masqueradeWhen: [], problems: [],
      }
      byKey.set(key, ep)
    }
    for (const m of o.masquerade) {
      if (m.chain === o.rule.chain) {
        if (!ep.masqueradeWhen.includes(m.when || 'always')) ep.masqueradeWhen.push(m.when || 'always')
      } else masquerade.set(`${m.chain}|${m.when}`, {chain: m.chain, when: m.when || 'always'})
    }
    if (conditional) {
      if (ep.probability === 0) ep.conditional = o.conditions.join(', ')
      return
    }
    delete ep.conditional
    ep.probability += o.probability
    sum += o.probability
    if (first && first.ruleProbability !== null && ep.ruleProbability === null) ep.ruleProbability = first.ruleProbability
  }
  for (const o of walked.outcomes) {
    if (o.target === 'DNAT' && o.dnat) add(o)
    for (const h of o.path) if (h.affinitySeconds !== undefined && h.chain === chain) affinity = {type: 'ClientIP', timeoutSeconds: h.affinitySeconds ?? null}
  }
  // marks set in the picking chain itself apply whatever endpoint is chosen
  for (const o of walked.outcomes) for (const m of o.masquerade) if (m.chain === chain) masquerade.set(`${m.chain}|${m.when}`, {chain: m.chain, when: m.when || 'always'})
  // a masquerade rule in a chain with no DNAT after it (e.g. every endpoint gone) still counts
  const endpoints = [...byKey.values()].map((ep) => ({...ep, probability: round(ep.probability)}))
  return {endpoints, affinity, masquerade: [...masquerade.values()], sum}
}
