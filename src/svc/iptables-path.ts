// `svc NAME` on the nf_tables backend reads only the chains on the service's path, one
// `iptables-nft -t nat -S CHAIN` each: on a node with 10k services `-S KUBE-SERVICES` takes
// 0.09 s and `-S KUBE-SVC-...` under 0.01 s, where the full iptables-nft-save takes 1.7 s (nft
// fetches only the chain asked for; `-t nat` alone saves nothing). The filter table likewise,
// chain by chain as the walk reaches them (read whole, `-t filter -S`, it fetches every chain of
// the family: 20k at 10k services). Pure: listings in, the next chains to ask for and one
// iptables-save text out, for the tracer as it is.

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
  // "" is in every line at every place: it names nothing (and would never end the search)
  if (!hint) return false
  for (let at = line.indexOf(hint); at >= 0; at = line.indexOf(hint, at + 1)) {
    const before = line[at - 1] ?? ' '
    const after = line[at + hint.length] ?? ' '
    if (WORD.test(hint[0]) && (WORD.test(before) || before === ':')) continue
    if (WORD.test(after) || (hint.includes(':') && after === ':')) continue
    return true
  }
  return false
}

/**
 * A rule's -j/-g target as the tracer's parser reads it (src/parse/iptables.ts targetName): after
 * the last quoted string, so a comment holding " -j X" names no target.
 */
export function ruleTarget(line: string): string | undefined {
  const quote = line.lastIndexOf('"')
  return /\s-(?:j|g|-jump|-goto)\s+([^\s"]+)/.exec(quote < 0 ? line : line.slice(quote + 1))?.[1]
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
  if (shared) {
    // KUBE-SERVICES of 10k services is 10k lines, each surely dropped: only the others are read,
    // found by one native scan (this read runs once, cold, on svc NAME's critical path)
    for (const [start, end] of linesToRead(text, hint)) readRule(text.slice(start, end), true, hint, out)
    return out
  }
  for (let start = 0; start < text.length;) {
    const newline = text.indexOf('\n', start)
    const end = newline < 0 ? text.length : newline
    readRule(text.slice(start, end), false, hint, out)
    start = end + 1
  }
  return out
}

/**
 * A line readRule surely drops from a shared chain, unless it mentions the hint: `-A`, then, after
 * its last quote (ruleTarget's reading), no target option but a last `-j` to a service's own
 * chain (isPerServicePortChain's names). Only what is certain: any other line is read by readRule.
 * `chain`: only that chain's rules (the chain's name in the pattern's own words).
 */
const droppedRule = (chain = '') => String.raw`-A ${chain}(?:[^\n]*")?(?:[^"\s]|[^\S\n](?!-(?:j|g|-jump|-goto)\s))*[^\S\n]-j[^\S\n]+KUBE-(?:SVC|SVL|EXT|FW|XLB|SEP)-[A-Z0-9]+(?![^\n])`
/** A whole line (at a line's start, up to its line break) that is not such a rule. */
const lineToRead = (dropped: string) => new RegExp(String.raw`(?<![^\n])(?!${dropped})[^\n]*`, 'g')
const LINE_TO_READ = lineToRead(droppedRule())

/**
 * The [start, end) of each line of a shared chain's text that readRule must read, in order: the
 * lines `toRead` finds and the lines the hint occurs in (mentions decides those). The text's end
 * after a last line break is no line.
 */
function linesToRead(text: string, hint: string, toRead = LINE_TO_READ): Array<[number, number]> {
  const odd: Array<[number, number]> = []
  toRead.lastIndex = 0
  for (let m = toRead.exec(text); m; m = toRead.exec(text)) {
    if (m.index >= text.length) break
    odd.push([m.index, m.index + m[0].length])
    // an empty line matches nothing: step past its line break
    toRead.lastIndex = m.index + m[0].length + 1
  }
  const hinted: Array<[number, number]> = []
  // "" names nothing (mentions), and is in every line
  for (let at = hint ? text.indexOf(hint) : -1; at >= 0; at = text.indexOf(hint, at)) {
    const start = text.lastIndexOf('\n', at - 1) + 1
    const newline = text.indexOf('\n', at)
    const end = newline < 0 ? text.length : newline
    hinted.push([start, end])
    if (newline < 0) break
    at = end + 1
  }
  if (hinted.length === 0) return odd
  const all: Array<[number, number]> = []
  for (let i = 0, j = 0; i < odd.length || j < hinted.length;) {
    const next = j >= hinted.length || (i < odd.length && odd[i][0] <= hinted[j][0]) ? odd[i++] : hinted[j++]
    if (all.length === 0 || all[all.length - 1][0] !== next[0]) all.push(next)
  }
  return all
}

/** Keeps some whole lines of a listing's text (whole lines in, whole lines out, in order). */
export type LineFilter = (text: string) => string

/**
 * For a shared chain (KUBE-SERVICES: 10k lines at 10k services), the lines of its listing that
 * readChainListing reads, and every line that is not one of that chain's surely dropped rules
 * (another chain's line, a line no listing prints, the marker that ends a batch): the same
 * listing for readChainListing and for every check of a listing's lines, without the 10k lines.
 * Applied to each piece of the listing as it comes (src/svc/listing-stream.ts), so that the 1.4
 * MB are never joined and none of the lines dropped is kept. undefined: a service's own chain,
 * read whole.
 */
export function pathLines(chain: string, hint: string): LineFilter | undefined {
  if (isPerServicePortChain(chain)) return undefined
  const toRead = lineToRead(droppedRule(chain.replace(/[^\w-]/g, '\\$&') + '(?=[^\\S\\n])'))
  return (text) => {
    let kept = ''
    for (const [start, end] of linesToRead(text, hint, toRead)) kept += text.slice(start, end) + '\n'
    return kept
  }
}

function readRule(line: string, shared: boolean, hint: string, out: ChainListing): void {
  if (line.startsWith('-P ')) out.policy = line.split(' ')[2] ?? null
  if (!line.startsWith('-A ')) return
  const target = ruleTarget(line)
  if (shared && target && isPerServicePortChain(target) && !mentions(line, hint)) return
  out.rules.push(line)
  if (target && !EXTENSION_TARGETS.has(target) && !out.next.includes(target)) out.next.push(target)
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
