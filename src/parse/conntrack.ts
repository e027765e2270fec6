// Conntrack entries, from `conntrack -L` or /proc/net/nf_conntrack (the same words after the
// latter's two leading "ipv4 2" fields). The first src/dst/sport/dport set is the original
// direction, the second the reply: a DNATed connection replies from the endpoint, a
// masqueraded one replies to the node. The one conntrack parser: `why`, `svc --probe`, `trace`
// and `conntrack` read it.

import ipaddr from 'ipaddr.js'

export interface ConntrackTuple {
  src: string
  dst: string
  sport: number | null
  dport: number | null
}

export interface ConntrackEntry {
  protocol: string
  /** seconds left before the entry expires */
  timeout: number | null
  /** TCP state (ESTABLISHED...), null for UDP */
  state: string | null
  original: ConntrackTuple
  reply: ConntrackTuple
  /** [UNREPLIED], [ASSURED] */
  flags: string[]
  /** from /proc/net/nf_conntrack's first word, else from the addresses */
  family: 'ipv4' | 'ipv6'
  mark: number | null
  /** only where the table prints it (/proc/net/nf_conntrack, conntrack -o extended) */
  zone: number | null
  /** seconds since the entry was made: only when the kernel stamps entries (nf_conntrack_timestamp=1) */
  ageSeconds: number | null
}

const PROTOCOLS = new Set(['tcp', 'udp', 'udplite', 'sctp', 'icmp', 'icmpv6', 'dccp', 'gre', 'unknown'])

/** /proc/net/nf_conntrack writes IPv6 in full (%pI6), conntrack compressed: both become ip's form. */
function canonical(address: string): string {
  return address.includes(':') && ipaddr.IPv6.isValid(address) ? ipaddr.IPv6.parse(address).toString() : address
}

const number = (v: string | undefined) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : null)

function tuple(words: Map<string, string>): ConntrackTuple {
  return {src: canonical(words.get('src') ?? ''), dst: canonical(words.get('dst') ?? ''), sport: number(words.get('sport')), dport: number(words.get('dport'))}
}

/** One line; undefined when it is not an entry (the "N flow entries" summary, blank lines). */
export function parseConntrackLine(line: string): ConntrackEntry | undefined {
  let words = line.trim().split(/\s+/)
  let family: 'ipv4' | 'ipv6' | undefined
  // /proc/net/nf_conntrack: "ipv4 2 udp 17 28 ..."
  if ((words[0] === 'ipv4' || words[0] === 'ipv6') && /^\d+$/.test(words[1] ?? '')) {
    family = words[0]
    words = words.slice(2)
  }
  const protocol = words[0]
  if (!protocol || !PROTOCOLS.has(protocol) || !/^\d+$/.test(words[1] ?? '')) return undefined
  let at = 2
  const timeout = /^\d+$/.test(words[at] ?? '') ? Number(words[at++]) : null
  const state = words[at] && /^[A-Z_]+$/.test(words[at]) ? words[at++] : null
  const sides = [new Map<string, string>(), new Map<string, string>()]
  const flags: string[] = []
  const meta = new Map<string, string>()
  let side = 0
  for (; at < words.length; at++) {
    const word = words[at]
    if (/^\[[A-Z_]+\]$/.test(word)) {
      flags.push(word.slice(1, -1))
      continue
    }
    const eq = word.indexOf('=')
    if (eq < 0) continue
    const key = word.slice(0, eq)
    if (['mark', 'zone', 'delta-time'].includes(key)) meta.set(key, word.slice(eq + 1))
    if (!['src', 'dst', 'sport', 'dport'].includes(key)) continue
    // a key seen again starts the reply tuple
    if (sides[side].has(key)) side = 1
    if (side > 1) break
    sides[side].set(key, word.slice(eq + 1))
  }
  if (!sides[0].has('src') || !sides[1].has('src')) return undefined
  const original = tuple(sides[0])
  return {
    protocol, timeout, state, original, reply: tuple(sides[1]), flags,
    family: family ?? (original.src.includes(':') ? 'ipv6' : 'ipv4'), mark: number(meta.get('mark')), zone: number(meta.get('zone')), ageSeconds: number(meta.get('delta-time')),
  }
}

export function parseConntrack(text: string): ConntrackEntry[] {
  const out: ConntrackEntry[] = []
  for (const line of text.split('\n')) {
    const entry = parseConntrackLine(line)
    if (entry) out.push(entry)
  }
  return out
}

/** Every entry of a table dump, and how many lines were not entries (the summary line aside). */
export function parseConntrackTable(text: string): {entries: ConntrackEntry[]; bad: number} {
  const entries: ConntrackEntry[] = []
  let bad = 0
  for (const line of text.split('\n')) {
    if (!line.trim() || /^conntrack v[\d.]+ \(conntrack-tools\)/.test(line)) continue
    const entry = parseConntrackLine(line)
    if (entry) entries.push(entry)
    else bad++
  }
  return {entries, bad}
}

/** What the kernel rewrote: a DNAT when the answer comes from elsewhere, an SNAT when it goes elsewhere. */
export function natOf(entry: ConntrackEntry): {dnat: boolean; snat: boolean} {
  return {
    dnat: entry.reply.src !== entry.original.dst || (entry.reply.sport !== null && entry.reply.sport !== entry.original.dport),
    snat: entry.reply.dst !== entry.original.src || (entry.reply.dport !== null && entry.reply.dport !== entry.original.sport),
  }
}
