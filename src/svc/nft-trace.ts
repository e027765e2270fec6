// kube-proxy's nftables mode, read-only: table `ip kube-proxy` (and `ip6 kube-proxy`). Frontends
// are elements of the service-ips / service-nodeports maps, endpoints the chains a
// `numgen random mod N vmap` sends to, verdicts the no-endpoint-* and firewall-ips maps.
// A chain an element or vmap names that the rules read do not hold (a cut capture) leaves that
// share of the traffic unknown.

import {nftServiceChain, nftServicePortName} from '../parse/kube-chains.js'
import {type NftElement, type NftRule, type NftTable, parseNftCapture} from '../parse/nft.js'
import {skippedNote} from '../parse/pasted-text.js'
import {canonicalIp} from './iptables-walk.js'
import type {EndpointTrace, Frontend, PathHop, ProxyTrace, ServiceTrace, UnknownShare, Verdict} from './types.js'

const TOLERANCE = 1e-6

function round(p: number): number {
  return Math.round(p * 1e12) / 1e12
}

function elementText(map: string, e: NftElement): string {
  return `${map}: ${e.key.join(' . ')}${e.comment ? ` comment "${e.comment}"` : ''}${e.verdict ? ` : ${e.verdict}` : ''}`
}

function verdictTarget(v: string | null): string {
  if (!v) return 'none'
  if (/reject/.test(v)) return 'REJECT'
  if (/drop/.test(v)) return 'DROP'
  return v.toUpperCase()
}

function jumpTarget(verdict: string | null): string {
  return verdict?.replace(/^(goto|jump)\s+/, '') ?? ''
}

/**
 * When a rule marks packets for masquerade: `jump mark-for-masquerade`, or the mark set inline (newer
 * kube-proxy): "always", "from not 10.0.0.0/8", "from a local address"; null for other rules.
 */
export function masqueradeWhen(text: string): string | null {
  const m = /^(.*?)\s*(?:jump mark-for-masquerade|(?:meta )?mark set (?:meta )?mark or 0x[0-9a-f]+)\b/.exec(text)
  if (!m) return null
  // the service's own address and port are what brought the packet here: not a condition
  const rest = m[1].replace(/\bip6? daddr \S+/, '').replace(/\b(tcp|udp|sctp|th) dport \S+/, '').replace(/\bmeta l4proto \S+/, '').trim()
  if (!rest) return 'always'
  return rest
    .replace(/\bip6? saddr != (\S+)/g, 'from not $1')
    .replace(/\bip6? saddr (\S+)/g, 'from $1')
    .replace(/\bfib saddr type local\b/g, 'from a local address')
    .replace(/\s+/g, ' ')
}

interface Group {
  id: string
  frontends: Frontend[]
  path: PathHop[]
}

interface Picked {
  endpoints: EndpointTrace[]
  masquerade: Array<{chain: string; when: string}>
  affinity: ServiceTrace['sessionAffinity']
  clusterCIDR: string | null
  sum: number
  unknown: UnknownShare[]
}

/** What a table's chains say: its label, whether a cut capture may hide rules, the chains it lacks. */
interface Reading {
  table: NftTable
  label: string
  partial: boolean
  /** chains elements or vmaps name that the table lacks: chain -> first place that names it */
  missing: Map<string, string>
}

function rulesOf(r: Reading, chain: string): NftRule[] | undefined {
  return r.table.chains.get(chain)
}

function missingChain(r: Reading, chain: string, where: string): UnknownShare {
  if (!r.missing.has(chain)) r.missing.set(chain, where)
  return {chain, share: 1, reason: `chain ${chain} not in the rules`}
}

function endpointFrom(r: Reading, target: string, path: PathHop[]): EndpointTrace | null {
  const epRules = rulesOf(r, target)
  if (!epRules) return null
  const dnat = epRules.map((x) => /dnat to (\[[^\]]+\]|[^\s:]+)(?::(\d+))?/.exec(x.text)).find(Boolean)
  if (!dnat) return null
  const ip = canonicalIp(dnat[1].replace(/^\[|\]$/g, ''))
  const masq = epRules.map((x) => /^(ip6?) saddr (\S+) jump mark-for-masquerade/.exec(x.text)).filter(Boolean).map((m) => `from ${m![2]}`)
  for (const x of epRules) path.push({table: r.label, chain: target, rule: x.text})
  return {ip, port: dnat[2] ? Number(dnat[2]) : null, probability: 0, ruleProbability: null, chain: target, location: 'unknown', pod: null, route: null, masqueradeWhen: masq, problems: []}
}

/** The service chain's endpoints: each vmap entry's share, and what it names that the rules read lack. */
function endpointsOf(r: Reading, chain: string, path: PathHop[]): Picked {
  const picked: Picked = {endpoints: [], masquerade: [], affinity: null, clusterCIDR: null, sum: 0, unknown: []}
  const rules = rulesOf(r, chain)
  if (!rules) {
    picked.unknown.push(missingChain(r, chain, 'a service map'))
    return picked
  }
  if (rules.length === 0 && r.partial) {
    picked.unknown.push({chain, share: 1, reason: `none of ${chain}'s rules are in the capture`})
    return picked
  }
  const endpoints = new Map<string, EndpointTrace>()
  const unknown = new Map<string, UnknownShare>()
  for (const rule of rules) {
    path.push({table: r.label, chain, rule: rule.text})
    const masq = masqueradeWhen(rule.text)
    if (masq) {
      picked.masquerade.push({chain, when: masq})
      picked.clusterCIDR ??= /^from not (\S+)$/.exec(masq)?.[1] ?? null
      continue
    }
    const aff = /saddr @(\S+) goto (\S+)/.exec(rule.text)
    if (aff) {
      picked.affinity = {type: 'ClientIP', timeoutSeconds: r.table.timeouts.get(aff[1]) ?? null}
      continue
    }
    const vmap = /numgen random mod (\d+) vmap \{(.*)\}/.exec(rule.text)
    if (!vmap) continue
    const mod = Number(vmap[1])
    for (const entry of vmap[2].split(',')) {
      const m = /(\d+)\s*:\s*(?:goto|jump)\s+(\S+)/.exec(entry)
      if (!m) continue
      let ep = endpoints.get(m[2])
      if (!ep) {
        const found = endpointFrom(r, m[2], path)
        if (!found) {
          const u = unknown.get(m[2]) ?? {...(rulesOf(r, m[2]) ? {chain: m[2], share: 0, reason: `${m[2]} shows no DNAT in the capture`} : missingChain(r, m[2], chain)), share: 0}
          u.share += 1 / mod
          unknown.set(m[2], u)
          continue
        }
        ep = found
        endpoints.set(m[2], ep)
      }
      ep.probability += 1 / mod
      picked.sum += 1 / mod
    }
  }
  picked.endpoints = [...endpoints.values()].map((e) => ({...e, probability: round(e.probability)}))
  picked.unknown = [...unknown.values()].map((u) => ({...u, share: round(u.share)}))
  return picked
}

/** Frontends: service-ips and service-nodeports elements, grouped per service port. */
function collectGroups(r: Reading): Map<string, Group> {
  const {table, label} = r
  const clusterIps = new Set((table.elements.get('cluster-ips') ?? []).map((e) => canonicalIp(e.key[0])))
  const firewalled = new Map<string, string>()
  for (const e of table.elements.get('firewall-ips') ?? []) firewalled.set(`${canonicalIp(e.key[0])}|${e.key[1]}|${e.key[2]}`, jumpTarget(e.verdict))
  const groups = new Map<string, Group>()
  const add = (map: string, e: NftElement, ip: string | null, protocol: string, port: number) => {
    const target = jumpTarget(e.verdict)
    const chain = nftServiceChain(target)
    if (!chain) return
    const fw = ip ? firewalled.get(`${ip}|${protocol}|${port}`) : undefined
    const kind: Frontend['kind'] = ip === null ? 'nodePort' : chain.role === 'service' || clusterIps.has(ip) ? 'clusterIP' : fw ? 'loadBalancer' : 'externalIP'
    let g = groups.get(chain.servicePort)
    if (!g) {
      g = {id: chain.servicePort, frontends: [], path: []}
      groups.set(chain.servicePort, g)
    }
    g.frontends.push({kind, ip, port, chain: target, dnatProbability: 0, dnatWhen: [], otherwise: null, ...(fw ? {via: fw} : {})})
    g.path.push({table: label, chain: map, rule: elementText(map, e)})
  }
  for (const e of table.elements.get('service-ips') ?? []) add('service-ips', e, canonicalIp(e.key[0]), e.key[1], Number(e.key[2]))
  for (const e of table.elements.get('service-nodeports') ?? []) add('service-nodeports', e, null, e.key[0], Number(e.key[1]))
  return groups
}

/** no-endpoint-services / no-endpoint-nodeports: the verdict for frontends with no endpoints. */
function noEndpointVerdicts(r: Reading): Map<string, {verdict: Verdict; service: string | null}> {
  const out = new Map<string, {verdict: Verdict; service: string | null}>()
  for (const [map, nodePorts] of [['no-endpoint-services', false], ['no-endpoint-nodeports', true]] as const) {
    for (const e of r.table.elements.get(map) ?? []) {
      const ip = nodePorts ? null : canonicalIp(e.key[0])
      const protocol = nodePorts ? e.key[0] : e.key[1]
      const port = Number(nodePorts ? e.key[1] : e.key[2])
      const verdict: Verdict = {target: verdictTarget(e.verdict), table: r.label, chain: map, rule: elementText(map, e), comment: e.comment}
      out.set(`${ip}|${protocol}|${port}`, {verdict, service: e.comment})
    }
  }
  return out
}

/** One frontend's fate: DNAT share, firewall, no-endpoint verdict, masquerade, unknown. */
function traceFrontend(r: Reading, f: Frontend, serviceChain: string | null, picked: Picked, blocked: {verdict: Verdict} | undefined): {externalTrafficPolicy?: 'Cluster' | 'Local'} {
  const rules = rulesOf(r, f.chain ?? '')
  const direct = f.chain === serviceChain || !!rules?.some((x) => /^goto service-/.test(x.text))
  const conditional = (rules ?? []).filter((x) => /\S.* goto service-/.test(x.text) && !/^goto /.test(x.text)).map((x) => x.text.replace(/\s*goto service-\S+/, ''))
  const masq = f.chain === serviceChain ? [] : (rules ?? []).map((x) => masqueradeWhen(x.text)).filter((w): w is string => w !== null)
  if (masq.length) f.masqueradeWhen = masq.includes('always') ? ['always'] : masq
  const unknownShare = picked.unknown.reduce((s, u) => s + u.share, 0)
  if (f.via) {
    const fwRules = rulesOf(r, f.via) ?? []
    const ranges = fwRules.map((x) => /saddr != \{?\s*([^}]+?)\s*\}? drop/.exec(x.text)).find(Boolean)
    f.sourceRanges = ranges ? ranges[1].split(',').map((x) => x.trim()) : []
    f.dnatWhen = f.sourceRanges.length ? [`from ${f.sourceRanges.join(', ')}`] : []
    f.otherwise = {target: 'DROP', table: r.label, chain: f.via, rule: fwRules[0]?.text ?? null, comment: null}
    f.dnatProbability = 0
  } else if (!rules && f.chain !== serviceChain) {
    // the frontend's own chain is not in the rules read
    f.unknownShare = 1
  } else if (blocked && picked.endpoints.length === 0 && unknownShare === 0) {
    f.otherwise = blocked.verdict
  } else if (direct && (picked.endpoints.length || unknownShare)) {
    f.dnatProbability = round(picked.sum)
    if (unknownShare > TOLERANCE) f.unknownShare = round(unknownShare)
  } else {
    f.dnatWhen = conditional
    f.otherwise = blocked?.verdict ?? {target: 'none', table: r.label, chain: f.chain ?? '', rule: null, comment: 'not DNATed'}
  }
  return f.chain?.startsWith('external-') ? {externalTrafficPolicy: direct ? 'Cluster' : 'Local'} : {}
}

function traceGroup(r: Reading, g: Group, noEndpoint: ReturnType<typeof noEndpointVerdicts>, known: Set<string>): ServiceTrace {
  const {service, protocol} = nftServicePortName(g.id)
  const target = g.frontends.map((f) => f.chain!).find((c) => nftServiceChain(c)?.role === 'service')
  const ownServiceChain = (c: string) => {
    const n = nftServiceChain(c)
    return n?.role === 'service' && n.servicePort === g.id
  }
  const serviceChain = target ?? [...r.table.chains.keys()].find(ownServiceChain) ?? null
  const path = [...g.path]
  const picked = serviceChain ? endpointsOf(r, serviceChain, path) : {endpoints: [], masquerade: [], affinity: null, clusterCIDR: null, sum: 0, unknown: []}
  let externalTrafficPolicy: ServiceTrace['externalTrafficPolicy'] = null
  const masquerade = [...picked.masquerade]
  for (const f of g.frontends) {
    known.add(`${f.ip}|${protocol}|${f.port}`)
    const policy = traceFrontend(r, f, serviceChain, picked, noEndpoint.get(`${f.ip}|${protocol}|${f.port}`))
    if (policy.externalTrafficPolicy) externalTrafficPolicy = policy.externalTrafficPolicy
    if (f.chain && f.unknownShare === 1 && !rulesOf(r, f.chain)) missingChain(r, f.chain, 'a service map')
    for (const when of f.masqueradeWhen ?? []) if (!masquerade.some((m) => m.chain === f.chain && m.when === when)) masquerade.push({chain: f.chain!, when})
  }
  // a service chain's own unknowns; without one, the frontends' missing chains
  const unknown = serviceChain ? picked.unknown : g.frontends.filter((f) => f.unknownShare === 1 && f.chain).map((f) => ({chain: f.chain!, share: 1, reason: `chain ${f.chain} not in the rules`}))
  const problems: string[] = []
  const unknownShare = picked.unknown.reduce((s, u) => s + u.share, 0)
  if (picked.endpoints.length === 0 && unknown.length === 0) problems.push('no endpoints')
  else if (picked.endpoints.length && Math.abs(picked.sum + unknownShare - 1) > TOLERANCE) problems.push(`endpoint shares in ${serviceChain} sum to ${picked.sum}`)
  const primary = g.frontends.find((f) => f.kind === 'clusterIP') ?? g.frontends[0]
  return {
    service, protocol, mode: 'nftables', chain: serviceChain, frontends: g.frontends,
    endpoints: picked.endpoints, ...(unknown.length ? {unknown} : {}),
    sessionAffinity: picked.affinity, masquerade,
    externalTrafficPolicy, internalTrafficPolicy: primary?.kind === 'clusterIP' ? 'Cluster' : null, healthCheckNodePort: null,
    verdict: verdictOf(primary, unknown), problems, path,
  }
}

function verdictOf(primary: Frontend | undefined, unknown: UnknownShare[]): string {
  const parts: string[] = []
  if (primary && primary.dnatProbability > 0) parts.push('DNAT')
  if (primary?.unknownShare) parts.push(`unknown: ${unknown.map((u) => u.reason).join('; ')}`)
  if (primary?.otherwise) parts.push(`${primary.otherwise.target} (${primary.otherwise.table} ${primary.otherwise.chain})`)
  return parts.join(', else ') || 'DNAT'
}

/** Services with no endpoints at all appear only in no-endpoint-services. */
function orphanServices(r: Reading, noEndpoint: ReturnType<typeof noEndpointVerdicts>, known: Set<string>): ServiceTrace[] {
  const clusterIps = new Set((r.table.elements.get('cluster-ips') ?? []).map((e) => canonicalIp(e.key[0])))
  const orphans = new Map<string, ServiceTrace>()
  for (const [key, {verdict, service}] of noEndpoint) {
    if (known.has(key)) continue
    const [ip, protocol, port] = key.split('|')
    const id = `${service}|${protocol}`
    let s = orphans.get(id)
    if (!s) {
      s = {
        service, protocol, mode: 'nftables', chain: null, frontends: [], endpoints: [], sessionAffinity: null, masquerade: [],
        externalTrafficPolicy: null, internalTrafficPolicy: null, healthCheckNodePort: null,
        verdict: `${verdict.target} (${verdict.table} ${verdict.chain}${verdict.comment ? ` "${verdict.comment}"` : ''})`,
        problems: [`no endpoints: ${verdict.target} (${verdict.table} ${verdict.chain})`], path: [{table: r.label, chain: verdict.chain, rule: verdict.rule ?? ''}],
      }
      orphans.set(id, s)
    }
    const realIp = ip === 'null' ? null : ip
    s.frontends.push({kind: realIp === null ? 'nodePort' : clusterIps.has(realIp) ? 'clusterIP' : 'externalIP', ip: realIp, port: Number(port), chain: null, dnatProbability: 0, dnatWhen: [], otherwise: verdict})
  }
  return [...orphans.values()]
}

/** kube-proxy's mark-for-masquerade chain: "mark set mark or 0x4000" (JSON: a mangle statement). */
function masqueradeMarkOf(table: NftTable): string | null {
  const mark = (table.chains.get('mark-for-masquerade') ?? []).map((x) => /0x[0-9a-f]+/i.exec(x.text)?.[0]).find(Boolean)
  return mark ? `0x${Number.parseInt(mark, 16).toString(16)}` : null
}

function traceTable(table: NftTable, source: string, partial: string[]): ProxyTrace {
  const r: Reading = {table, label: `${table.family} ${table.name}`, partial: partial.length > 0, missing: new Map()}
  const noEndpoint = noEndpointVerdicts(r)
  const known = new Set<string>()
  const services = [...collectGroups(r).values()].map((g) => traceGroup(r, g, noEndpoint, known))
  services.push(...orphanServices(r, noEndpoint, known))
  services.sort((a, b) => ((a.service ?? '') < (b.service ?? '') ? -1 : (a.service ?? '') > (b.service ?? '') ? 1 : 0))
  const problems = r.missing.size ? [`chains not in the rules read (${r.partial ? 'cut from this capture' : 'named but missing'}): ${[...r.missing.keys()].join(', ')}`] : []
  return {
    mode: services.length ? 'nftables' : 'none', source, masqueradeMark: masqueradeMarkOf(table),
    clusterCIDR: services.map((s) => s.masquerade.map((m) => /^from not (\S+)$/.exec(m.when)?.[1]).find(Boolean)).find(Boolean) ?? null,
    services, unresolved: [], problems, notes: [], partial,
    missingChains: [...r.missing.keys()].map((chain) => ({table: r.label, chain, jumps: 1, firstLine: 0})),
  }
}

/** Traces every kube-proxy table (ip and ip6) in nft JSON, an nft listing, or nft -f text. */
export function traceKubeProxyNft(text: string, source = 'nft'): ProxyTrace[] {
  const capture = parseNftCapture(text)
  const traces = [...capture.tables.values()].filter((t) => t.name === 'kube-proxy').map((t) => traceTable(t, `${source} (${t.family} ${t.name})`, capture.partial))
  const notes = capture.skipped.map(skippedNote)
  if (traces.length) Object.assign(traces[0], {skipped: capture.skipped, notes: [...notes, ...traces[0].notes]})
  else if (capture.nftLines || capture.skipped.length) {
    traces.push({mode: 'none', source, masqueradeMark: null, clusterCIDR: null, services: [], unresolved: [], problems: [], notes, partial: capture.partial, skipped: capture.skipped})
  }
  return traces
}
