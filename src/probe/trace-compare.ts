// The path one packet really took (the kernel's trace) beside the path `svc` predicted from the
// rules: the KUBE- chains in order (kube-proxy's per-service chains in nftables mode), the rule
// matched at each rule number, the DNAT target and the final verdict. Pure: records in, records out.

import {parseIptablesSave} from '../parse/iptables.js'
import {parseNft} from '../parse/nft.js'
import type {ServiceTrace} from '../svc/types.js'
import type {TraceHop, TraceMode} from './trace-types.js'

/** The rules the prediction was made from, to look a rule number up in. */
export interface PredictedRules {
  mode: TraceMode
  /** iptables-save text (iptables modes) or nft JSON/text holding `ip kube-proxy` (nftables) */
  text: string
}

/** Chains a route is compared on: kube-proxy's own, less the masquerade side trips (the `masquerade` list predicts those). */
export function routeChain(mode: TraceMode, chain: string): boolean {
  // per-service chains carry kube-proxy's 8-character hash; its base chains (firewall-check, service-endpoints-check) do not
  if (mode === 'nftables') return /^(service|external|endpoint|firewall)-[A-Z0-9]{8}-/.test(chain)
  return chain.startsWith('KUBE-') && !chain.startsWith('KUBE-MARK-') && chain !== 'KUBE-POSTROUTING'
}

/** Chains a verdict names: "-j X", "-g X" (iptables), "jump X", "goto X", vmap entries (nft). */
export function targetsOf(rule: string): string[] {
  const out = new Set<string>()
  for (const m of rule.matchAll(/(?:^|\s)-[jg]\s+(\S+)/g)) out.add(m[1])
  for (const m of rule.matchAll(/\b(?:jump|goto)\s+([^\s,}]+)/g)) out.add(m[1])
  return [...out]
}

/** "jump KUBE-SVC-X" -> "KUBE-SVC-X"; null for accept/drop/continue/return. */
function verdictTarget(verdict: string | null): string | null {
  const m = /^(?:jump|goto)\s+(\S+)/.exec(verdict ?? '')
  return m ? m[1] : null
}

/** The DNAT target a rule sets: "-j DNAT --to-destination 10.0.0.1:80" or "dnat to 10.0.0.1:80" (also "dnat ip to"). */
export function dnatTarget(rule: string | null): {ip: string; port: number | null} | null {
  if (!rule) return null
  const m = /--to-destination\s+(\S+)/.exec(rule) ?? /\bdnat(?:\s+ip6?)?\s+to\s+(\S+)/.exec(rule)
  if (!m) return null
  const text = m[1]
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(text)
  if (v6) return {ip: v6[1], port: v6[2] ? Number(v6[2]) : null}
  const [ip, port] = text.split(':')
  return {ip, port: port ? Number(port.split('-')[0]) : null}
}

/** The chains a packet went through, in order: each rule hop's chain and where its verdict sent it. */
export function observedRoute(mode: TraceMode, hops: TraceHop[]): string[] {
  const route: string[] = []
  const push = (chain: string | null) => {
    if (!chain || !routeChain(mode, chain)) return
    if (route[route.length - 1] !== chain) route.push(chain)
  }
  for (const h of hops) {
    if (!inRouteTable(mode, h)) continue
    push(h.chain)
    push(verdictTarget(h.verdict))
  }
  return route
}

/** Where DNAT happens: nat (iptables), kube-proxy's table (nftables). */
function inRouteTable(mode: TraceMode, h: TraceHop): boolean {
  return mode === 'nftables' ? h.table === 'kube-proxy' : h.table === 'nat'
}

/** The predicted chains from the frontend to one endpoint chain: the shortest way through the traced path's jumps. */
export function predictedRoute(mode: TraceMode, service: ServiceTrace, endpointChain: string | null): string[] {
  const edges = new Map<string, Set<string>>()
  const targeted = new Set<string>()
  for (const h of service.path) {
    for (const t of targetsOf(h.rule)) {
      if (!edges.has(h.chain)) edges.set(h.chain, new Set())
      edges.get(h.chain)!.add(t)
      targeted.add(t)
    }
  }
  const starts = [...edges.keys()].filter((c) => !targeted.has(c))
  if (!endpointChain) return []
  const previous = new Map<string, string | null>(starts.map((s) => [s, null]))
  const queue = [...starts]
  while (queue.length) {
    const at = queue.shift()!
    if (at === endpointChain) break
    for (const next of edges.get(at) ?? []) {
      if (previous.has(next)) continue
      previous.set(next, at)
      queue.push(next)
    }
  }
  if (!previous.has(endpointChain)) return []
  const chain: string[] = []
  for (let at: string | null = endpointChain; at !== null; at = previous.get(at) ?? null) chain.unshift(at)
  return chain.filter((c) => routeChain(mode, c))
}

function normalise(rule: string): string {
  return rule.replace(/^\[\d+:\d+\]\s+/, '').replace(/\s*counter packets \d+ bytes \d+/g, '').replace(/\s+/g, ' ').trim()
}

/** Looks rules up by table, chain and rule number in the rules the prediction read. */
export class RuleBook {
  private readonly chains = new Map<string, string[]>()

  constructor(readonly rules: PredictedRules) {
    if (rules.mode === 'nftables') {
      for (const t of parseNft(rules.text).values()) {
        if (t.name !== 'kube-proxy') continue
        for (const [name, list] of t.chains) this.chains.set(`kube-proxy|${name}`, list.map((r) => r.text))
      }
    } else {
      for (const t of parseIptablesSave(rules.text).tables.values()) {
        for (const c of t.chains.values()) this.chains.set(`${t.name}|${c.name}`, c.rules.map((r) => r.text))
      }
    }
  }

  has(table: string, chain: string): boolean {
    return this.chains.has(`${table}|${chain}`)
  }

  /** The rule at a 1-based number; undefined past the end or in a chain the rules do not have. */
  at(table: string, chain: string, position: number): string | undefined {
    return this.chains.get(`${table}|${chain}`)?.[position - 1]
  }
}

/** Does the predicted rule at the hop's number say what the packet did? One line when not. */
function ruleDifference(book: RuleBook, h: TraceHop): string | null {
  if (h.kind !== 'rule' || h.position === null) return null
  if (!book.has(h.table, h.chain)) return `${h.table} ${h.chain}: the packet went through this chain, which the predicted rules do not have`
  const predicted = book.at(h.table, h.chain, h.position)
  const what = h.rule ? `\`${normalise(h.rule)}\`` : `a rule with verdict ${h.verdict}`
  if (predicted === undefined) return `${h.table} ${h.chain} rule ${h.position}: the packet matched ${what}; the predicted chain has no rule ${h.position}`
  if (book.rules.mode === 'nftables') {
    // nft prints the same rule in more than one way (JSON vs listing): compare where it sends packets
    // a vmap rule sends packets where its map says: the route comparison judges that, not the rule text
    const target = verdictTarget(h.verdict)
    if (target && !/\bvmap\b/.test(predicted) && !targetsOf(predicted).includes(target)) return `${h.table} ${h.chain} rule ${h.position}: predicted \`${normalise(predicted)}\`, the packet was sent to ${target}`
    return null
  }
  if (h.rule && normalise(h.rule) !== normalise(predicted)) return `${h.table} ${h.chain} rule ${h.position}: predicted \`${normalise(predicted)}\`, the packet matched ${what}`
  return null
}

export interface TraceComparison {
  /** the chains svc predicted to the endpoint the packet reached (or to every endpoint, when it reached none) */
  predictedRoute: string[]
  observedRoute: string[]
  /** where DNAT sent the packet, per the trace */
  dnat: {ip: string; port: number | null} | null
  /** DNAT, or the verdict that ended the packet (REJECT, DROP), or accept */
  observedVerdict: string
  predictedVerdict: string
  differences: string[]
}

/** A filter or nat rule that threw the packet away: REJECT, DROP, nft reject/drop. */
function refusal(h: TraceHop): boolean {
  if (h.kind === 'policy') return h.verdict === 'drop'
  if (h.verdict === 'drop') return true
  return /(?:^|\s)-j\s+(REJECT|DROP)\b/.test(h.rule ?? '') || /(?:^|\s)(reject|drop)(\s|$)/.test(h.rule ?? '')
}

export function compareTrace(mode: TraceMode, service: ServiceTrace, hops: TraceHop[], book: RuleBook | null): TraceComparison {
  const differences: string[] = []
  const observed = observedRoute(mode, hops)
  const dnatHop = hops.find((h) => inRouteTable(mode, h) && dnatTarget(h.rule))
  const dnat = dnatHop ? dnatTarget(dnatHop.rule) : null
  const refused = hops.find(refusal)
  const observedVerdict = dnat ? `DNAT ${dnat.ip}:${dnat.port ?? '*'}` : refused ? `${refused.rule && /-j\s+(\S+)/.exec(refused.rule)?.[1] || refused.verdict || 'drop'} (${refused.table} ${refused.chain})` : 'accept'
  const predictsDnat = service.endpoints.length > 0
  const predictedVerdict = predictsDnat ? `DNAT to ${service.endpoints.map((e) => `${e.ip}:${e.port ?? '*'}`).join(' | ')}` : service.verdict
  let predicted: string[] = []
  if (predictsDnat) {
    const endpoint = dnat ? service.endpoints.find((e) => e.ip === dnat.ip && (e.port === null || dnat.port === null || e.port === dnat.port)) : undefined
    if (!dnat) differences.push(`the packet was not DNATed (${observedVerdict}); the rules predict ${predictedVerdict}`)
    else if (!endpoint) differences.push(`DNAT to ${dnat.ip}:${dnat.port ?? '*'}, which is not one of the predicted endpoints (${service.endpoints.map((e) => `${e.ip}:${e.port ?? '*'}`).join(', ')})`)
    predicted = predictedRoute(mode, service, endpoint?.chain ?? null)
    if (endpoint && predicted.length && predicted.join(' ') !== observed.join(' ')) {
      differences.push(`predicted ${predicted.join(' -> ')}; the packet went ${observed.join(' -> ') || 'through none of them'}`)
    }
  } else if (dnat) {
    differences.push(`DNAT to ${dnat.ip}:${dnat.port ?? '*'}, but the rules predict ${service.verdict}`)
  } else if (/^(REJECT|DROP)/.test(service.verdict) && !refused) {
    differences.push(`the packet was accepted; the rules predict ${service.verdict}`)
  }
  if (book) {
    // kube-proxy's own rules only: the built-in chains also hold other components' rules
    const kubeProxys = (h: TraceHop) => (mode === 'nftables' ? h.table === 'kube-proxy' : h.chain.startsWith('KUBE-'))
    for (const h of hops) {
      if (!kubeProxys(h)) continue
      const d = ruleDifference(book, h)
      if (d && !differences.includes(d)) differences.push(d)
    }
  }
  return {predictedRoute: predicted, observedRoute: observed, dnat, observedVerdict, predictedVerdict, differences}
}
