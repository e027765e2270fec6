// From a parsed iptables dump to one record per service port: frontends found in kube-proxy's
// fixed chains (src/svc/iptables-frontends.ts), endpoints found by walking the rules (never by
// reading comments), filter verdicts for what nat leaves alone, and for what the rules read do not
// show (a cut capture, a jump to a chain that is not there), an "unknown" share naming why.

import type {IptablesDump} from '../parse/iptables.js'
import {chainRole, isEndpointChain, isPerServicePortChain, serviceExternalChainName, serviceLocalChainName, servicePortChainName, servicePortHash, serviceXlbChainName} from '../parse/kube-chains.js'
import {type Hook, type Hooks, chainChecks, missingEntryChains, readHooks} from './iptables-checks.js'
import {type FrontendRule, type Group, type GroupSelector, addFilterOnlyFrontends, addFrontendlessGroups, collectFrontends, healthCheckPorts} from './iptables-frontends.js'
import {type Outcome, type Packet, TableWalker, type WalkHop, isUnknownOutcome} from './iptables-walk.js'
import type {EndpointTrace, Frontend, PathHop, ProxyTrace, ServiceTrace, UnknownShare, Verdict} from './types.js'

export {type GroupSelector, serviceNameFromComment} from './iptables-frontends.js'

const PROBABILITY_TOLERANCE = 1e-6
/** filter chains holding kube-proxy's REJECT/DROP rules, in the order a packet meets them. */
const FILTER_CHAINS = ['KUBE-PROXY-FIREWALL', 'KUBE-NODEPORTS', 'KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES']

function round(p: number): number {
  return Math.round(p * 1e12) / 1e12
}

function describe(rule: {text: string; comment: string | null} | undefined, target: string, table: string, chain: string): Verdict {
  return {target, table, chain, rule: rule?.text ?? null, comment: rule?.comment ?? null}
}

export function verdictText(v: Verdict | null): string {
  if (!v) return 'DNAT'
  return `${v.target} (${v.table} ${v.chain}${v.comment ? ` "${v.comment}"` : ''})`
}

/** Everything the phases of one trace share. */
interface Trace {
  dump: IptablesDump
  nat: TableWalker
  filter: TableWalker
  hooks: Hooks
  healthChecks: Map<string, number>
  userspace: boolean
}

/** Traces every service port in an iptables dump (or those `select` keeps). */
export function traceIptables(dump: IptablesDump, source = 'iptables', select?: GroupSelector, hint?: string): ProxyTrace {
  const nat = new TableWalker(dump, 'nat')
  const filter = new TableWalker(dump, 'filter')
  const hooks = readHooks(dump, nat)
  const frontends = collectFrontends(nat, hint)
  addFilterOnlyFrontends(filter, frontends.groups)
  // a named service found by its frontends needs no look at service chains without one (that costs on 30k services)
  if (hint === undefined || frontends.groups.size === 0) addFrontendlessGroups(nat, frontends.groups, hint)
  const trace: Trace = {dump, nat, filter, hooks, healthChecks: healthCheckPorts(filter), userspace: frontends.userspace}
  const services: ServiceTrace[] = []
  for (const group of frontends.groups.values()) {
    if (select && !select({service: group.service, protocol: group.protocol, frontends: [...group.frontends, ...group.filterOnly]})) continue
    nat.entered = new Set()
    services.push(traceGroup(trace, group))
    releaseOwnChains(nat, nat.entered)
    for (const f of group.frontends) f.rule.release()
  }
  nat.entered = null
  const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
  services.sort((a, b) => order(a.service ?? '', b.service ?? '') || order(a.frontends[0]?.ip ?? '', b.frontends[0]?.ip ?? '') || order(a.chain ?? '', b.chain ?? ''))
  const checks = select ? null : chainChecks(dump)
  const problems = [...hooks.problems, ...frontends.problems, ...(checks?.problems ?? [])]
  const notes = [...inputNotes(dump, nat), ...hooks.notes]
  if (select) notes.push('unreferenced-chain checks skipped for a single service: svc -A runs them')
  // kube-proxy's chains being there is what makes this iptables mode, also when the query matched none
  const kubeProxy = nat.hasKubeProxyChains()
  let mode: ProxyTrace['mode'] = kubeProxy || services.length || frontends.unresolved.length ? 'iptables' : 'none'
  if (frontends.userspace) {
    mode = 'userspace'
    notes.push('userspace-mode kube-proxy rules (KUBE-PORTALS-*): DNAT lives in KUBE-SVC-* chains, no KUBE-SEP-*')
  }
  return {
    mode, source, masqueradeMark: nat.masqueradeMark(), clusterCIDR: clusterCidr(nat, services), services, unresolved: frontends.unresolved,
    problems, notes, partial: dump.partial, skipped: dump.skipped, missingEntryChains: missingEntryChains(nat),
    ...(checks ? {unreferencedChains: checks.unreferenced, missingChains: checks.missing} : {}),
  }
}

/**
 * A traced service's own chains (KUBE-SVC, KUBE-SEP, ...: no other service walks them) drop their
 * parsed rules: on 10k services this keeps the heap to the rules' text, and the collector's work small.
 */
function releaseOwnChains(nat: TableWalker, entered: Set<string>): void {
  for (const name of entered) {
    if (!isPerServicePortChain(name)) continue
    for (const rule of nat.chain(name)?.rules ?? []) rule.release()
  }
}

/** What the parser noted about the input, and what the nat table lacks. */
function inputNotes(dump: IptablesDump, nat: TableWalker): string[] {
  const notes = [...dump.notes]
  for (const w of dump.warnings) notes.push(`iptables-save: ${w}`)
  for (const table of dump.tables.values()) {
    for (const chain of table.deleted) notes.push(`${table.name}: chain ${chain} deleted (-X) by this input`)
    const undeclared = [...table.chains.values()].filter((c) => !c.declared).map((c) => c.name)
    if (undeclared.length) notes.push(`${table.name}: ${undeclared.length} chain(s) have rules but no declaration (partial input?): ${undeclared.slice(0, 5).join(', ')}${undeclared.length > 5 ? ', ...' : ''}`)
  }
  if (!dump.tables.has('nat')) notes.push('no nat table in this input: no frontend can be traced')
  else if (!nat.chain('KUBE-SERVICES') && !nat.chain('KUBE-PORTALS-CONTAINER')) {
    notes.push(nat.chain('KUBE-NODEPORTS')
      ? 'nat KUBE-SERVICES not in this input (truncated?): only the NodePort frontends it holds can be traced'
      : 'nat KUBE-SERVICES not in this input (truncated?): endpoints cannot be tied to frontends')
  }
  return notes
}

/** The CIDR kube-proxy treats as pod traffic: its `! -s CIDR ... -j KUBE-MARK-MASQ` rules, the most common one. */
function clusterCidr(nat: TableWalker, services: ServiceTrace[]): string | null {
  const counts = new Map<string, number>()
  for (const s of services) for (const m of s.masquerade) {
    const c = /^from not (\S+)/.exec(m.when)
    const role = chainRole(m.chain)
    if (c && (role === 'service-port' || role === 'services')) counts.set(c[1], (counts.get(c[1]) ?? 0) + 1)
  }
  if (counts.size === 0) {
    // before 1.21 these rules sat in KUBE-SERVICES itself, also for frontends whose chains a capture lacks
    for (const rule of nat.chain('KUBE-SERVICES')?.rules ?? []) {
      if (!rule.text.includes('! -s') || chainRole(rule.targetName ?? '') !== 'mark-masquerade') continue
      if (rule.source?.negated) counts.set(rule.source.cidr, (counts.get(rule.source.cidr) ?? 0) + 1)
    }
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null
}

function packetFor(f: FrontendRule): Packet {
  return {dst: f.ip, dport: f.port || null, protocol: f.protocol, dstLocal: f.kind === 'nodePort' ? true : false}
}

/** What the filter table does with a packet nat left alone. */
function filterVerdict(filter: TableWalker, packet: Packet): Verdict | null {
  const roots = filter.chain('FORWARD') && filter.chain('INPUT')
    ? [packet.dst === null ? 'INPUT' : 'FORWARD']
    : FILTER_CHAINS.filter((c) => filter.chain(c))
  for (const root of roots) {
    const result = filter.walk(root, packet)
    const hit = result.outcomes.find((o) => o.conditions.length === 0 && !isUnknownOutcome(o))
    if (hit) return describe(hit.rule, hit.target, 'filter', hit.rule.chain)
    if (roots.length === 1 && filter.chain(root)?.policy) return describe(undefined, filter.chain(root)!.policy!, 'filter', root)
  }
  return null
}

/** The hook a frontend's packets need, and where its walk starts: the built-in chain when hooked, else its own chain. */
function entryOf(t: Trace, f: FrontendRule): {start: string; hook: Hook} {
  const chain = f.rule.chain
  const role = chainRole(chain)
  const hook = role === 'nodeports' ? t.hooks.nodePorts : t.hooks.services
  if (hook.hooked && t.hooks.services.hooked && t.nat.chain('PREROUTING')) return {start: 'PREROUTING', hook}
  if (role === 'nodeports' && hook.hooked) return {start: 'KUBE-SERVICES', hook}
  return {start: chain, hook}
}

function unknownOf(outcomes: Outcome[]): UnknownShare[] {
  const byChain = new Map<string, UnknownShare>()
  for (const o of outcomes) {
    if (!isUnknownOutcome(o) || o.conditions.length > 0) continue
    const u = byChain.get(o.unknown!.chain) ?? {chain: o.unknown!.chain, share: 0, reason: o.unknown!.reason}
    u.share += o.probability
    byChain.set(u.chain, u)
  }
  return [...byChain.values()].map((u) => ({...u, share: round(u.share)}))
}

/** What masquerades a frontend's packets, whatever endpoint they reach ("always" when unconditional). */
function frontendMasquerade(outcomes: Outcome[]): string[] {
  const whens = new Set<string>()
  for (const o of outcomes) {
    if ((o.target !== 'DNAT' && !isUnknownOutcome(o)) || o.conditions.length > 0) continue
    for (const m of o.masquerade) if (!isEndpointChain(m.chain)) whens.add(m.when || 'always')
  }
  return whens.has('always') ? ['always'] : [...whens]
}

interface TracedFrontend {
  source: FrontendRule
  frontend: Frontend
  outcomes: Outcome[]
  problems: string[]
}

/** One frontend's walk: its DNAT share, what is unknown, and what happens to the rest. */
function traceFrontend(t: Trace, f: FrontendRule): TracedFrontend {
  const packet = packetFor(f)
  const {start, hook} = entryOf(t, f)
  const walked = t.nat.walk(start, packet)
  const target = f.rule.target!.name
  const dnatMass = walked.outcomes.filter((o) => o.target === 'DNAT' && o.conditions.length === 0).reduce((s, o) => s + o.probability, 0)
  const unknown = unknownOf(walked.outcomes)
  const unknownMass = unknown.reduce((s, u) => s + u.share, 0)
  // conditions only matter for what the unconditional split leaves; affinity just repeats an earlier choice
  const dnatWhen = dnatMass >= 1 - PROBABILITY_TOLERANCE ? [] : [...new Set(walked.outcomes
    .filter((o) => o.target === 'DNAT' && o.conditions.length > 0)
    .map((o) => o.conditions.filter((c) => !c.endsWith('(session affinity)')).join(', '))
    .filter(Boolean))]
  let otherwise: Verdict | null = null
  if (1 - dnatMass - unknownMass > PROBABILITY_TOLERANCE) {
    const natEnd = walked.outcomes.find((o) => o.target !== 'DNAT' && !isUnknownOutcome(o) && o.conditions.length === 0)
    otherwise = natEnd ? describe(natEnd.rule, natEnd.target, 'nat', natEnd.rule.chain) : filterVerdict(t.filter, packet) ?? {target: 'none', table: 'nat', chain: start, rule: null, comment: 'not DNATed: delivered to the address itself'}
  }
  const frontend: Frontend = {kind: f.kind, ip: f.ip, port: f.port, chain: target, dnatProbability: round(dnatMass), dnatWhen, otherwise}
  if (f.localhost) frontend.localhost = true
  if (unknownMass > PROBABILITY_TOLERANCE) frontend.unknownShare = round(unknownMass)
  const masquerade = frontendMasquerade(walked.outcomes)
  if (masquerade.length) frontend.masqueradeWhen = masquerade
  if (chainRole(target) === 'service-firewall') {
    frontend.via = target
    frontend.sourceRanges = (t.nat.chain(target)?.rules ?? []).filter((r) => r.source && !r.source.negated && r.target && t.nat.chain(r.target.name)).map((r) => r.source!.cidr)
  }
  if (hook.hooked === false) {
    // the chains still say where packets would go; the kernel never sends them there
    frontend.notHooked = hook.reason!
    frontend.dnatProbability = 0
    frontend.dnatWhen = []
    delete frontend.unknownShare
    frontend.otherwise = {target: 'none', table: 'nat', chain: start, rule: null, comment: hook.reason}
  }
  return {source: f, frontend, outcomes: walked.outcomes, problems: walked.problems}
}

/** The service's path: the primary frontend's walk, each rule once. */
function pathOf(outcomes: Outcome[]): PathHop[] {
  const path: PathHop[] = []
  const seen = new Set<string>()
  for (const o of outcomes) for (const h of o.path as WalkHop[]) {
    const id = `${h.table}|${h.chain}|${h.line}`
    if (seen.has(id)) continue
    seen.add(id)
    const hop: PathHop = {table: h.table, chain: h.chain, rule: h.rule}
    if (h.probability !== undefined) hop.probability = round(h.probability)
    if (h.condition) hop.condition = h.condition
    path.push(hop)
  }
  return path
}

function traceGroup(t: Trace, group: Group): ServiceTrace {
  const traced = group.frontends.map((f) => traceFrontend(t, f))
  const frontends = traced.map((x) => x.frontend)
  const problems = [...new Set(traced.flatMap((x) => x.problems))]
  // the primary frontend: the cluster IP, else the first; a filter-only cluster IP when nat has none
  const primary: TracedFrontend | undefined = traced.find((x) => x.source.kind === 'clusterIP') ?? traced[0]
  let primaryVerdict: Verdict | null | undefined = primary?.frontend.otherwise
  let path = primary ? pathOf(primary.outcomes) : []
  for (const f of group.filterOnly) {
    const verdict = filterVerdict(t.filter, packetFor(f))
    frontends.push({kind: f.kind, ip: f.ip, port: f.port, chain: null, dnatProbability: 0, dnatWhen: [], otherwise: verdict})
    if (!primary && (primaryVerdict === undefined || f.kind === 'clusterIP')) {
      primaryVerdict = verdict
      path = verdict?.rule ? [{table: 'filter', chain: verdict.chain, rule: verdict.rule}] : []
    }
  }
  const hash = servicePortHash([...group.chains][0] ?? '')
  const chain = pickingChain(t, group, hash, primary)
  const picked = chain ? endpointsOf(t.nat, chain, primary ? packetFor(primary.source) : {dst: null, dport: null, protocol: group.protocol, dstLocal: null}, primary && primary.frontend.chain === chain ? primary.outcomes : undefined) : emptyPick()
  let localEndpoints: EndpointTrace[] | undefined
  if (hash && chain === servicePortChainName(hash) && t.nat.chain(serviceLocalChainName(hash))) {
    localEndpoints = endpointsOf(t.nat, serviceLocalChainName(hash), primary ? packetFor(primary.source) : {dst: null, dport: null, protocol: group.protocol, dstLocal: null}).endpoints
  }
  // before 1.21 the cluster-IP masquerade rule sat in KUBE-SERVICES, on the way to the picking chain
  if (primary) for (const o of primary.outcomes) {
    if (o.conditions.length > 0) continue
    for (const m of o.masquerade) if (chainRole(m.chain) === 'services' && !picked.masquerade.some((x) => x.chain === m.chain && x.when === (m.when || 'always'))) picked.masquerade.push({chain: m.chain, when: m.when || 'always'})
  }
  const endpoints = picked.endpoints
  const knownShare = picked.sum + picked.unknown.reduce((s, u) => s + u.share, 0)
  for (const ep of endpoints) for (const p of ep.problems) if (!problems.includes(p)) problems.push(p)
  if (endpoints.length === 0 && picked.unknown.length === 0 && !primary?.frontend.notHooked) problems.push(primaryVerdict ? `no endpoints: ${verdictText(primaryVerdict)}` : 'no endpoints')
  else if (endpoints.length && Math.abs(knownShare - 1) > PROBABILITY_TOLERANCE) problems.push(`endpoint probabilities in ${chain} sum to ${round(knownShare)}, not 1: ${round(1 - knownShare)} of new connections fall through un-DNATed`)
  const protocol = group.protocol === 'unknown' ? picked.protocol ?? 'unknown' : group.protocol
  const name = group.service ?? null
  return {
    service: name,
    protocol,
    mode: t.userspace ? 'userspace' : 'iptables',
    chain,
    frontends,
    endpoints,
    ...(localEndpoints ? {localEndpoints} : {}),
    ...(picked.unknown.length ? {unknown: picked.unknown} : {}),
    sessionAffinity: picked.affinity,
    masquerade: picked.masquerade,
    ...trafficPolicies(t, group, hash, frontends),
    healthCheckNodePort: name ? t.healthChecks.get(name) ?? null : null,
    verdict: serviceVerdict(group, primary, primaryVerdict, picked.unknown),
    problems,
    path,
  }
}

/** The chain that picks an endpoint: KUBE-SVC-<hash>, else KUBE-SVL-<hash>, else where the primary frontend goes. */
function pickingChain(t: Trace, group: Group, hash: string | null, primary: TracedFrontend | undefined): string | null {
  if (hash && t.nat.chain(servicePortChainName(hash))) return servicePortChainName(hash)
  if (hash && t.nat.chain(serviceLocalChainName(hash))) return serviceLocalChainName(hash)
  if (primary) return primary.frontend.chain
  return [...group.chains][0] ?? null
}

function serviceVerdict(group: Group, primary: TracedFrontend | undefined, otherwise: Verdict | null | undefined, unknown: UnknownShare[]): string {
  if (!primary) {
    if (group.frontendless) return `unknown: no frontend in the capture leads to ${[...group.chains].sort().join(', ')}`
    return otherwise ? verdictText(otherwise) : 'DNAT'
  }
  const f = primary.frontend
  if (f.notHooked) return f.notHooked
  const parts: string[] = []
  if (f.dnatProbability > 0) parts.push('DNAT')
  if (f.unknownShare) parts.push(`unknown: ${unknownOf(primary.outcomes).map((u) => u.reason).join('; ') || unknown.map((u) => u.reason).join('; ')}`)
  if (f.otherwise) parts.push(verdictText(f.otherwise))
  return parts.join(', else ') || 'DNAT'
}

/** Traffic policies, from structure: KUBE-EXT (KUBE-XLB before 1.21) going straight to KUBE-SVC is Cluster. */
function trafficPolicies(t: Trace, group: Group, hash: string | null, frontends: Frontend[]): Pick<ServiceTrace, 'externalTrafficPolicy' | 'internalTrafficPolicy'> {
  let externalTrafficPolicy: ServiceTrace['externalTrafficPolicy'] = null
  const ext = hash ? t.nat.chain(serviceExternalChainName(hash)) ?? t.nat.chain(serviceXlbChainName(hash)) : undefined
  if (ext) {
    const unconditionalToSvc = ext.rules.some((r) => r.target?.name === servicePortChainName(hash!) && !r.source && r.matches.every((m) => m.module === 'comment'))
    externalTrafficPolicy = unconditionalToSvc ? 'Cluster' : 'Local'
  } else if (frontends.some((f) => f.kind !== 'clusterIP')) {
    externalTrafficPolicy = frontends.some((f) => f.otherwise?.comment?.includes('no local endpoints')) ? 'Local' : 'Cluster'
  }
  let internalTrafficPolicy: ServiceTrace['internalTrafficPolicy'] = null
  const clusterFrontend = group.frontends.find((f) => f.kind === 'clusterIP')
  if (clusterFrontend) internalTrafficPolicy = chainRole(clusterFrontend.rule.target!.name) === 'service-local' ? 'Local' : 'Cluster'
  else {
    const filtered = frontends.find((f) => f.kind === 'clusterIP' && f.otherwise)
    if (filtered) internalTrafficPolicy = filtered.otherwise!.target === 'DROP' ? 'Local' : 'Cluster'
  }
  return {externalTrafficPolicy, internalTrafficPolicy}
}

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

interface Picked {
  endpoints: EndpointTrace[]
  affinity: ServiceTrace['sessionAffinity']
  masquerade: Array<{chain: string; when: string}>
  /** share DNATed to the endpoints */
  sum: number
  unknown: UnknownShare[]
  /** the protocol the endpoint rules match, when the frontends do not say */
  protocol: string | null
}

function emptyPick(): Picked {
  return {endpoints: [], affinity: null, masquerade: [], sum: 0, unknown: [], protocol: null}
}

/** Walks the endpoint-picking chain: each DNAT reached, with its effective probability, and what stays unknown. */
export function endpointsOf(nat: TableWalker, chain: string, packet: Packet, prior?: Outcome[]): Picked {
  const picked = emptyPick()
  const pickingChain = nat.chain(chain)
  if (pickingChain && pickingChain.rules.length === 0 && nat.partial) {
    picked.unknown.push({chain, share: 1, reason: `none of ${chain}'s rules are in the capture`})
    return picked
  }
  const walked = reuse(prior, chain) ?? nat.walk(chain, packet)
  const byKey = new Map<string, EndpointTrace>()
  const masquerade = new Map<string, {chain: string; when: string}>()
  for (const o of walked.outcomes) {
    if (o.target === 'DNAT' && o.dnat) {
      addEndpoint(byKey, masquerade, o, picked)
      picked.protocol ??= o.rule.protocol?.name ?? null
    }
    for (const h of o.path as WalkHop[]) if (h.affinitySeconds !== undefined && h.chain === chain) picked.affinity = {type: 'ClientIP', timeoutSeconds: h.affinitySeconds ?? null}
  }
  picked.unknown = unknownOf(walked.outcomes)
  // marks set in the picking chain itself apply whatever endpoint is chosen
  for (const o of walked.outcomes) for (const m of o.masquerade) if (m.chain === chain) masquerade.set(`${m.chain}|${m.when}`, {chain: m.chain, when: m.when || 'always'})
  picked.endpoints = [...byKey.values()].map((ep) => ({...ep, probability: round(ep.probability)}))
  picked.masquerade = [...masquerade.values()]
  return picked
}

function addEndpoint(byKey: Map<string, EndpointTrace>, masquerade: Map<string, {chain: string; when: string}>, o: Outcome, picked: Picked): void {
  const dnat = o.dnat!
  const key = `${o.rule.chain}|${dnat.ip}|${dnat.port}`
  let ep = byKey.get(key)
  if (!ep) {
    ep = {ip: dnat.ip, port: dnat.port, probability: 0, ruleProbability: null, chain: o.rule.chain, location: 'unknown', pod: null, route: null, masqueradeWhen: [], problems: dnat.problem ? [`endpoint ${dnat.ip}:${dnat.port ?? '*'} (${o.rule.chain}): ${dnat.problem}`] : []}
    byKey.set(key, ep)
  }
  for (const m of o.masquerade) {
    if (m.chain === o.rule.chain) {
      if (!ep.masqueradeWhen.includes(m.when || 'always')) ep.masqueradeWhen.push(m.when || 'always')
    } else masquerade.set(`${m.chain}|${m.when}`, {chain: m.chain, when: m.when || 'always'})
  }
  if (o.conditions.length > 0) {
    if (ep.probability === 0) ep.conditional = o.conditions.join(', ')
    return
  }
  delete ep.conditional
  ep.probability += o.probability
  picked.sum += o.probability
  const first = o.path[0] as WalkHop | undefined
  if (first && first.ruleProbability !== null && ep.ruleProbability === null) ep.ruleProbability = first.ruleProbability
}
