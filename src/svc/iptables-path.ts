// `svc NAME` on the nf_tables backend reads only the chains on the service's path, one
// `iptables-nft -t nat -S CHAIN` each: on a node with 10k services `-S KUBE-SERVICES` takes
// 0.09 s and `-S KUBE-SVC-...` under 0.01 s, where the full iptables-nft-save takes 1.7 s (nft
// fetches only the chain asked for; `-t nat` alone saves nothing). The filter table holds no
// per-endpoint chains and is read whole, in one listing. Pure: listings in, the next chains to
// ask for and one iptables-save text out, for the tracer as it is.

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
  // where hint next occurs: a line before it cannot mention it
  let hintAt = shared ? text.indexOf(hint) : -1
  // where " -g " next occurs (seldom: searched again only once passed)
  let goAt = shared ? text.indexOf(' -g ') : -1
  for (let start = 0; start < text.length;) {
    const newline = text.indexOf('\n', start)
    const end = newline < 0 ? text.length : newline
    if (hintAt >= 0 && hintAt < start) hintAt = text.indexOf(hint, start)
    if (goAt >= 0 && goAt < start) goAt = text.indexOf(' -g ', start)
    // KUBE-SERVICES of 10k services is 10k such lines: each dropped without a string made for it
    const skip = shared && (hintAt < 0 || hintAt >= end) && text.startsWith('-A ', start) && jumpsToServiceChain(text, start, end, goAt)
    if (!skip) readRule(text.slice(start, end), shared, hint, out)
    start = end + 1
  }
  return out
}

function readRule(line: string, shared: boolean, hint: string, out: ChainListing): void {
  if (line.startsWith('-P ')) out.policy = line.split(' ')[2] ?? null
  if (!line.startsWith('-A ')) return
  const target = / -[jg] (\S+)/.exec(line)?.[1]
  if (shared && target && isPerServicePortChain(target) && !mentions(line, hint)) return
  out.rules.push(line)
  if (target && !EXTENSION_TARGETS.has(target) && !out.next.includes(target)) out.next.push(target)
}

const SERVICE_CHAIN_PREFIXES = ['KUBE-SVC-', 'KUBE-SVL-', 'KUBE-EXT-', 'KUBE-FW-', 'KUBE-XLB-', 'KUBE-SEP-']

/**
 * Whether the rule text[start, end) surely jumps or goes to a service's own chain, as readRule
 * reads its target (the first " -j X"/" -g X"): X a per-service-port chain name followed by a
 * space or the line's end. goAt: where " -g " next occurs from start. false: not sure, readRule decides.
 */
function jumpsToServiceChain(text: string, start: number, end: number, goAt: number): boolean {
  let at = text.indexOf(' -j ', start)
  if (goAt >= 0 && (at < 0 || goAt < at)) at = goAt
  if (at < 0 || at >= end) return false
  at += 4
  const prefix = SERVICE_CHAIN_PREFIXES.find((p) => text.startsWith(p, at))
  if (!prefix) return false
  let i = at + prefix.length
  const hashStart = i
  for (let c = text.charCodeAt(i); i < end && ((c >= 65 && c <= 90) || (c >= 48 && c <= 57)); c = text.charCodeAt(++i));
  return i > hashStart && (i === end || text.charCodeAt(i) === 32)
}

/**
 * nat chains kube-proxy always has and every service's path reaches (POSTROUTING jumps to
 * KUBE-POSTROUTING, a service's or endpoint's chain to KUBE-MARK-MASQ): asked for with the first
 * listings, not a round later; kept only where the walk reaches them.
 */
export const PATH_PREFETCH: ReadonlyArray<[PathTable, string]> = [['nat', 'KUBE-POSTROUTING'], ['nat', 'KUBE-MARK-MASQ']]

/**
 * A whole table's `iptables -t TABLE -S` listing, cut into each chain's own `-S CHAIN` listing
 * (the same lines: `-P`/`-N`, then its `-A` rules in order).
 */
export function tableChains(text: string): Map<string, string> {
  const chains = new Map<string, string[]>()
  for (const line of text.split('\n')) {
    const m = /^-[PNA] (\S+)/.exec(line)
    if (!m) continue
    let lines = chains.get(m[1])
    if (!lines) chains.set(m[1], (lines = []))
    lines.push(line)
  }
  return new Map([...chains].map(([name, lines]) => [name, lines.join('\n') + '\n']))
}

/**
 * Where a chain's listing comes from: its listing (null: the chain is not there, as a save would
 * not hold it), or undefined when the program is not there (the walk gives up).
 */
export type ListChain = (table: PathTable, chain: string) => Promise<ChainListing | null | undefined>

/**
 * Walks from PATH_START, round by round, each chain once: the chains on the path and their kept
 * rules, per table, in the order found (the same order however the listings are fetched).
 */
export async function walkPath(list: ListChain): Promise<Map<PathTable, Map<string, ChainListing>> | undefined> {
  const tables = new Map<PathTable, Map<string, ChainListing>>([['nat', new Map()], ['filter', new Map()]])
  const asked = new Set(PATH_START.map(([t, c]) => `${t} ${c}`))
  let round: Array<[PathTable, string]> = PATH_START
  while (round.length) {
    const listed = await Promise.all(round.map(([table, chain]) => list(table, chain)))
    if (listed.some((l) => l === undefined)) return undefined
    const next: Array<[PathTable, string]> = []
    round.forEach(([table, chain], i) => {
      const listing = listed[i]
      if (!listing) return
      tables.get(table)!.set(chain, listing)
      for (const target of listing.next) {
        if (asked.has(`${table} ${target}`)) continue
        asked.add(`${table} ${target}`)
        next.push([table, target])
      }
    })
    round = next
  }
  return tables
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

/**
 * A whole iptables-save text cut to the chains on the path of the service `hint` names (the same
 * walk as the listings'): on the legacy backend every listing fetches the whole table, so svc NAME
 * reads the save once, and traces only what the path needs instead of 250k rules.
 */
export async function saveOnPath(text: string, hint: string): Promise<string> {
  // where each chain's rules are, as offsets into the text: not 250k line strings to collect
  const tables = new Map<string, Map<string, {head: string; ranges: number[]}>>()
  // what the save says about itself ("# Warning: iptables-legacy tables present") is kept
  const warnings: string[] = []
  let chains: Map<string, {head: string; ranges: number[]}> | undefined
  let current: {head: string; ranges: number[]} | undefined
  let currentName = ''
  for (let pos = 0; pos < text.length;) {
    const newline = text.indexOf('\n', pos)
    const end = newline < 0 ? text.length : newline + 1
    if (text.startsWith('-A ', pos)) {
      // a save lists a chain's rules together: the chain seldom changes from one line to the next
      if (!current || !text.startsWith(currentName, pos + 3) || text.charCodeAt(pos + 3 + currentName.length) !== 32) {
        const space = text.indexOf(' ', pos + 3)
        currentName = text.slice(pos + 3, space < 0 || space > end ? end : space)
        current = chains?.get(currentName)
      }
      if (current) {
        const r = current.ranges
        if (r.length && r[r.length - 1] === pos) r[r.length - 1] = end
        else r.push(pos, end)
      }
    } else {
      const line = text.slice(pos, end).replace(/\n$/, '')
      if (/^#\s*Warning:/.test(line)) warnings.push(line)
      else if (line.startsWith('*')) {
        tables.set(line.slice(1).trim(), (chains = new Map()))
        current = undefined
      } else if (chains && line.startsWith(':')) {
        const [name, policy] = line.slice(1).split(' ')
        chains.set(name, {head: policy && policy !== '-' ? `-P ${name} ${policy}` : `-N ${name}`, ranges: []})
        current = undefined
      }
    }
    pos = end
  }
  const walked = await walkPath(async (table, chain) => {
    const found = tables.get(table)?.get(chain)
    if (!found) return null
    const parts = [found.head + '\n']
    for (let i = 0; i < found.ranges.length; i += 2) parts.push(text.slice(found.ranges[i], found.ranges[i + 1]))
    return readChainListing(chain, parts.join(''), hint)
  })
  return (warnings.length ? warnings.join('\n') + '\n' : '') + saveText(walked!)
}
