// kube-proxy's nftables mode, read-only: table `ip kube-proxy` (and `ip6 kube-proxy`). Frontends
// are elements of the service-ips / service-nodeports maps, endpoints the chains a
// `numgen random mod N vmap` sends to, verdicts the no-endpoint-* and firewall-ips maps.

import {type NftElement, type NftTable, parseNft} from '../parse/nft.js'
import {canonicalIp} from './iptables-walk.js'
import type {EndpointTrace, Frontend, PathHop, ProxyTrace, ServiceTrace, Verdict} from './types.js'

const CHAIN = /^(service|external|firewall|endpoint)-([A-Z0-9]{8})-([^/]+\/[^/]+\/[^/]+\/[^_]*)(__.*)?$/

/** "ns1/svc1/tcp/p80" -> "ns1/svc1:p80" (the name iptables-mode comments use). */
function serviceName(id: string): {service: string; protocol: string} {
  const [ns, name, protocol, port] = id.split('/')
  return {service: port ? `${ns}/${name}:${port}` : `${ns}/${name}`, protocol}
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

interface Group {
  id: string
  frontends: Frontend[]
  path: PathHop[]
}

function endpointsOf(table: NftTable, chain: string, tableLabel: string, path: PathHop[]) {
  const rules = table.chains.get(chain) ?? []
  const endpoints = new Map<string, EndpointTrace>()
  const masquerade: Array<{chain: string; when: string}> = []
  let affinity: ServiceTrace['sessionAffinity'] = null
  let clusterCIDR: string | null = null
  let sum = 0
  const endpointFrom = (target: string): EndpointTrace | null => {
    const epRules = table.chains.get(target)
    if (!epRules) return null
    const dnat = epRules.map((r) => /dnat to (\[[^\]]+\]|[^\s:]+)(?::(\d+))?/.exec(r.text)).find(Boolean)
    if (!dnat) return null
    const ip = canonicalIp(dnat[1].replace(/^\[|\]$/g, ''))
    const masq = epRules.map((r) => /^(ip6?) saddr (\S+) jump mark-for-masquerade/.exec(r.text)).filter(Boolean).map((m) => `from ${m![2]}`)
    for (const r of epRules) path.push({table: tableLabel, chain: target, rule: r.text})
    return {ip, port: dnat[2] ? Number(dnat[2]) : null, probability: 0, ruleProbability: null, chain: target, location: 'unknown', pod: null, route: null, masqueradeWhen: masq, problems: []}
  }
  for (const rule of rules) {
    path.push({table: tableLabel, chain, rule: rule.text})
    const masq = /saddr != (\S+) jump mark-for-masquerade/.exec(rule.text)
    if (masq) {
      masquerade.push({chain, when: `from not ${masq[1]}`})
      clusterCIDR ??= masq[1]
      continue
    }
    const aff = /saddr @(\S+) goto (\S+)/.exec(rule.text)
    if (aff) {
      affinity = {type: 'ClientIP', timeoutSeconds: table.timeouts.get(aff[1]) ?? null}
      continue
    }
    const vmap = /numgen random mod (\d+) vmap \{(.*)\}/.exec(rule.text)
    if (vmap) {
      const mod = Number(vmap[1])
      for (const entry of vmap[2].split(',')) {
        const m = /(\d+)\s*:\s*(?:goto|jump)\s+(\S+)/.exec(entry)
        if (!m) continue
        let ep = endpoints.get(m[2])
        if (!ep) {
          const found = endpointFrom(m[2])
          if (!found) continue
          ep = found
          endpoints.set(m[2], ep)
        }
        ep.probability += 1 / mod
        sum += 1 / mod
      }
    }
  }
  return {endpoints: [...endpoints.values()], masquerade, affinity, clusterCIDR, sum}
}

function traceTable(table: NftTable, source: string): ProxyTrace {
  const label = `${table.family} ${table.name}`
  const clusterIps = new Set((table.elements.get('cluster-ips') ?? []).map((e) => canonicalIp(e.key[0])))
  const firewalled = new Map<string, string>()
  for (const e of table.elements.get('firewall-ips') ?? []) firewalled.set(`${canonicalIp(e.key[0])}|${e.key[1]}|${e.key[2]}`, e.verdict?.replace(/^(goto|jump)\s+/, '') ?? '')
  const groups = new Map<string, Group>()
  const problems: string[] = []
  const group = (id: string) => {
    let g = groups.get(id)
    if (!g) {
      g = {id, frontends: [], path: []}
      groups.set(id, g)
    }
    return g
  }
  const add = (map: string, e: NftElement, ip: string | null, protocol: string, port: number) => {
    const target = e.verdict?.replace(/^(goto|jump)\s+/, '') ?? ''
    const m = CHAIN.exec(target)
    if (!m) return
    if (!table.chains.has(target)) problems.push(`${label} ${map} element ${e.key.join(' . ')} goes to chain ${target}, which does not exist`)
    const role = m[1]
    const fw = ip ? firewalled.get(`${ip}|${protocol}|${port}`) : undefined
    const kind: Frontend['kind'] = ip === null ? 'nodePort' : role === 'service' || clusterIps.has(ip) ? 'clusterIP' : fw ? 'loadBalancer' : 'externalIP'
    const g = group(m[3])
    g.frontends.push({kind, ip, port, chain: target, dnatProbability: 0, dnatWhen: [], otherwise: null, ...(fw ? {via: fw} : {})})
    g.path.push({table: label, chain: map, rule: elementText(map, e)})
  }
  for (const e of table.elements.get('service-ips') ?? []) add('service-ips', e, canonicalIp(e.key[0]), e.key[1], Number(e.key[2]))
  for (const e of table.elements.get('service-nodeports') ?? []) add('service-nodeports', e, null, e.key[0], Number(e.key[1]))

  // no-endpoint maps: verdicts, and frontends nothing else names
  const noEndpoint = new Map<string, {verdict: Verdict; service: string | null}>()
  for (const [map, nodePorts] of [['no-endpoint-services', false], ['no-endpoint-nodeports', true]] as const) {
    for (const e of table.elements.get(map) ?? []) {
      const ip = nodePorts ? null : canonicalIp(e.key[0])
      const protocol = nodePorts ? e.key[0] : e.key[1]
      const port = Number(nodePorts ? e.key[1] : e.key[2])
      const verdict: Verdict = {target: verdictTarget(e.verdict), table: label, chain: map, rule: elementText(map, e), comment: e.comment}
      noEndpoint.set(`${ip}|${protocol}|${port}`, {verdict, service: e.comment})
    }
  }

  const services: ServiceTrace[] = []
  let clusterCIDR: string | null = null
  const known = new Set<string>()
  for (const g of groups.values()) {
    const {service, protocol} = serviceName(g.id)
    const serviceChain = [...table.chains.keys()].find((c) => c.startsWith('service-') && CHAIN.exec(c)?.[3] === g.id) ?? null
    const path = [...g.path]
    const picked = serviceChain ? endpointsOf(table, serviceChain, label, path) : {endpoints: [], masquerade: [], affinity: null, clusterCIDR: null, sum: 0}
    clusterCIDR ??= picked.clusterCIDR
    const svcProblems: string[] = []
    let externalTrafficPolicy: ServiceTrace['externalTrafficPolicy'] = null
    for (const f of g.frontends) {
      known.add(`${f.ip}|${protocol}|${f.port}`)
      const rules = table.chains.get(f.chain ?? '') ?? []
      const direct = f.chain === serviceChain || rules.some((r) => /^goto service-/.test(r.text))
      const conditional = rules.filter((r) => /\S.* goto service-/.test(r.text) && !/^goto /.test(r.text)).map((r) => r.text.replace(/\s*goto service-\S+/, ''))
      if (f.chain?.startsWith('external-')) externalTrafficPolicy = direct ? 'Cluster' : 'Local'
      const blocked = noEndpoint.get(`${f.ip}|${protocol}|${f.port}`)
      if (f.via) {
        const fwRules = table.chains.get(f.via) ?? []
        const ranges = fwRules.map((r) => /saddr != \{?\s*([^}]+?)\s*\}? drop/.exec(r.text)).find(Boolean)
        f.sourceRanges = ranges ? ranges[1].split(',').map((s) => s.trim()) : []
        f.dnatWhen = f.sourceRanges.length ? [`from ${f.sourceRanges.join(', ')}`] : []
        f.otherwise = {target: 'DROP', table: label, chain: f.via, rule: fwRules[0]?.text ?? null, comment: null}
        f.dnatProbability = 0
      } else if (blocked && picked.endpoints.length === 0) {
        f.otherwise = blocked.verdict
      } else if (direct && picked.endpoints.length) {
        f.dnatProbability = Math.round(picked.sum * 1e12) / 1e12
      } else {
        f.dnatWhen = conditional
        f.otherwise = blocked?.verdict ?? {target: 'none', table: label, chain: f.chain ?? '', rule: null, comment: 'not DNATed'}
      }
    }
    if (picked.endpoints.length === 0) svcProblems.push('no endpoints')
    else if (Math.abs(picked.sum - 1) > 1e-6) svcProblems.push(`endpoint shares in ${serviceChain} sum to ${picked.sum}`)
    const primary = g.frontends.find((f) => f.kind === 'clusterIP') ?? g.frontends[0]
    services.push({
      service, protocol, mode: 'nftables', chain: serviceChain, frontends: g.frontends,
      endpoints: picked.endpoints.map((e) => ({...e, probability: Math.round(e.probability * 1e12) / 1e12})),
      sessionAffinity: picked.affinity, masquerade: picked.masquerade,
      externalTrafficPolicy, internalTrafficPolicy: primary?.kind === 'clusterIP' ? 'Cluster' : null, healthCheckNodePort: null,
      verdict: primary?.otherwise && primary.dnatProbability === 0 ? `${primary.otherwise.target} (${primary.otherwise.table} ${primary.otherwise.chain})` : 'DNAT',
      problems: svcProblems, path,
    })
  }
  // services with no endpoints at all appear only in no-endpoint-services
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
        problems: [`no endpoints: ${verdict.target} (${verdict.table} ${verdict.chain})`], path: [{table: label, chain: verdict.chain, rule: verdict.rule ?? ''}],
      }
      orphans.set(id, s)
      services.push(s)
    }
    const realIp = ip === 'null' ? null : ip
    s.frontends.push({kind: realIp === null ? 'nodePort' : clusterIps.has(realIp) ? 'clusterIP' : 'externalIP', ip: realIp, port: Number(port), chain: null, dnatProbability: 0, dnatWhen: [], otherwise: verdict})
  }
  services.sort((a, b) => ((a.service ?? '') < (b.service ?? '') ? -1 : (a.service ?? '') > (b.service ?? '') ? 1 : 0))
  // kube-proxy's mark-for-masquerade chain: "mark set mark or 0x4000" (JSON: a mangle statement)
  const mark = (table.chains.get('mark-for-masquerade') ?? []).map((r) => /0x[0-9a-f]+/i.exec(r.text)?.[0]).find(Boolean)
  const masqueradeMark = mark ? `0x${Number.parseInt(mark, 16).toString(16)}` : null
  return {mode: services.length ? 'nftables' : 'none', source, masqueradeMark, clusterCIDR, services, unresolved: [], problems, notes: []}
}

/** Traces every kube-proxy table (ip and ip6) in nft JSON or nft -f text. */
export function traceKubeProxyNft(text: string, source = 'nft'): ProxyTrace[] {
  const tables = parseNft(text)
  return [...tables.values()].filter((t) => t.name === 'kube-proxy').map((t) => traceTable(t, `${source} (${t.family} ${t.name})`))
}
