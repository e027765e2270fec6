// Conntrack entries, from `conntrack -L` or /proc/net/nf_conntrack (the same words after the
// latter's two leading "ipv4 2" fields). The first src/dst/sport/dport set is the original
// direction, the second the reply: a DNATed connection replies from the endpoint.

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
}

const PROTOCOLS = new Set(['tcp', 'udp', 'udplite', 'sctp', 'icmp', 'icmpv6', 'dccp', 'gre', 'unknown'])

function tuple(words: Map<string, string>): ConntrackTuple {
  const port = (v: string | undefined) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : null)
  return {src: words.get('src') ?? '', dst: words.get('dst') ?? '', sport: port(words.get('sport')), dport: port(words.get('dport'))}
}

/** One line; undefined when it is not an entry (the "N flow entries" summary, blank lines). */
export function parseConntrackLine(line: string): ConntrackEntry | undefined {
  let words = line.trim().split(/\s+/)
  // /proc/net/nf_conntrack: "ipv4 2 udp 17 28 ..."
  if ((words[0] === 'ipv4' || words[0] === 'ipv6') && /^\d+$/.test(words[1] ?? '')) words = words.slice(2)
  const protocol = words[0]
  if (!protocol || !PROTOCOLS.has(protocol) || !/^\d+$/.test(words[1] ?? '')) return undefined
  let at = 2
  const timeout = /^\d+$/.test(words[at] ?? '') ? Number(words[at++]) : null
  const state = words[at] && /^[A-Z_]+$/.test(words[at]) ? words[at++] : null
  const sides = [new Map<string, string>(), new Map<string, string>()]
  const flags: string[] = []
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
    if (!['src', 'dst', 'sport', 'dport'].includes(key)) continue
    // a key seen again starts the reply tuple
    if (sides[side].has(key)) side = 1
    if (side > 1) break
    sides[side].set(key, word.slice(eq + 1))
  }
  if (!sides[0].has('src') || !sides[1].has('src')) return undefined
  return {protocol, timeout, state, original: tuple(sides[0]), reply: tuple(sides[1]), flags}
}

export function parseConntrack(text: string): ConntrackEntry[] {
  const out: ConntrackEntry[] = []
  for (const line of text.split('\n')) {
    const entry = parseConntrackLine(line)
    if (entry) out.push(entry)
  }
  return out
}
