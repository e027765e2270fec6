// `svc NAME` on the nf_tables backend reads only the chains on the service's path, one
// `iptables-nft -t TABLE -S CHAIN` each: on a node with 10k services `-S KUBE-SERVICES` takes
// 0.09 s and `-S KUBE-SVC-...` under 0.01 s, where the full iptables-nft-save takes 1.7 s (nft
// fetches only the chain asked for; `-t nat` alone saves nothing). Pure: listings in, the next
// chains to ask for and one iptables-save text out, for the tracer as it is.

import {isPerServicePortChain} from '../parse/kube-chains.js'

export type PathTable = 'nat' | 'filter'

/**
 * Where the walk starts: the built-in chains kube-proxy hooks into and its entry chains (asked for
 * in the first round, not found by following jumps, to save rounds).
 */
export const PATH_START: Array<[PathTable, string]> = [
  ['nat', 'PREROUTING'], ['nat', 'OUTPUT'], ['nat', 'POSTROUTING'], ['nat', 'KUBE-SERVICES'], ['nat', 'KUBE-NODEPORTS'],
  ['filter', 'INPUT'], ['filter', 'FORWARD'], ['filter', 'OUTPUT'], ['filter', 'KUBE-SERVICES'], ['filter', 'KUBE-EXTERNAL-SERVICES'],
  ['filter', 'KUBE-NODEPORTS'], ['filter', 'KUBE-PROXY-FIREWALL'], ['filter', 'KUBE-FORWARD'], ['filter', 'KUBE-FIREWALL'],
]

// targets that are extensions, not chains (the ones kube-proxy, CNIs and hosts commonly use)
const EXTENSION_TARGETS = new Set([
  'ACCEPT', 'DROP', 'RETURN', 'REJECT', 'QUEUE', 'DNAT', 'SNAT', 'MASQUERADE', 'REDIRECT', 'NETMAP', 'MARK', 'CONNMARK', 'LOG',
  'NFLOG', 'ULOG', 'NOTRACK', 'CT', 'TPROXY', 'TCPMSS', 'CHECKSUM', 'NFQUEUE', 'AUDIT', 'CLASSIFY', 'DSCP', 'TOS', 'TTL', 'HL',
  'SET', 'TEE', 'TRACE', 'SECMARK', 'CONNSECMARK', 'IDLETIMER', 'LED', 'RATEEST', 'SYNPROXY', 'CLUSTERIP', 'HMARK', 'FLOWOFFLOAD',
])

const WORD = /[\w.-]/

/**
 * Whether line names hint as a whole word: 10.96.0.7 is not in 10.96.0.70, /svc-7 not in
 * /svc-70 (a name is followed by its port name's ":"; an IPv6 address is not followed by ":").
 */
export function mentions(line: string, hint: string): boolean {
  for (let at = line.indexOf(hint); at >= 0; at = line.indexOf(hint, at + 1)) {
    const before = line[at - 1] ?? ' '
    const after = line[at + hint.length] ?? ' '
    if (WORD.test(hint[0]) && (WORD.test(before) || before === ':')) continue
    if (WORD.test(after) || (hint.includes(':') && after === ':')) continue
    return true
  }
  return false
}

/** One chain's `-S` listing, with only the rules on the wanted service's path. */
export interface ChainListing {
  /** `-P CHAIN POLICY` for a built-in chain, else null. */
  policy: string | null
  /** The `-A` lines kept. */
  rules: string[]
  /** Chains those rules jump or go to, to ask for next. */
  next: string[]
}

/**
 * Reads one `iptables -t TABLE -S CHAIN` listing. In a chain many services share (KUBE-SERVICES,
 * KUBE-NODEPORTS, ...), a rule that jumps to a service's own chain (KUBE-SVC/SVL/EXT/FW/XLB/SEP)
 * without `hint`, the text every frontend rule of the wanted service carries, is left out and its
 * chain is not asked for: that is what keeps 10k services away. A service's own chains are
 * followed whole (past 1000 endpoints kube-proxy leaves their comments out).
 */
export function readChainListing(chain: string, text: string, hint: string): ChainListing {
  const shared = !isPerServicePortChain(chain)
  const out: ChainListing = {policy: null, rules: [], next: []}
  for (const line of text.split('\n')) {
    if (line.startsWith('-P ')) out.policy = line.split(' ')[2] ?? null
    if (!line.startsWith('-A ')) continue
    const target = / -[jg] (\S+)/.exec(line)?.[1]
    if (shared && target && isPerServicePortChain(target) && !mentions(line, hint)) continue
    out.rules.push(line)
    if (target && !EXTENSION_TARGETS.has(target) && !out.next.includes(target)) out.next.push(target)
  }
  return out
}

/** The listings read, as iptables-save text (chains declared, then their rules), per table. */
export function saveText(tables: Map<PathTable, Map<string, ChainListing>>): string {
  const out: string[] = []
  for (const [table, chains] of tables) {
    if (chains.size === 0) continue
    out.push(`*${table}`)
    for (const [name, listing] of chains) out.push(`:${name} ${listing.policy ?? '-'} [0:0]`)
    for (const listing of chains.values()) out.push(...listing.rules)
    out.push('COMMIT')
  }
  return out.length ? out.join('\n') + '\n' : ''
}
