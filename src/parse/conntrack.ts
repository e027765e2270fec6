// `conntrack -L` lines (conntrack-tools' default output), one flow each:
//   tcp      6 117 TIME_WAIT src=10.88.0.5 dst=10.96.0.10 sport=41234 dport=80 src=10.88.0.7 dst=10.88.0.5 sport=8080 dport=41234 [ASSURED] mark=0 use=1
//   udp      17 29 src=10.88.0.5 dst=10.96.0.10 sport=5353 dport=53 [UNREPLIED] src=10.88.0.9 dst=10.88.0.5 sport=53 dport=5353 mark=0 use=1
// The first tuple is the original direction, the second the reply: a DNAT shows as a reply
// source that is not the original destination. `-o extended` adds a leading "ipv4     2".

export interface ConntrackTuple {
  src: string
  dst: string
  sport: number | null
  dport: number | null
}

export interface ConntrackEntry {
  protocol: string
  /** seconds left */
  timeout: number
  /** TCP state (ESTABLISHED, TIME_WAIT, SYN_SENT...); null for protocols without one */
  state: string | null
  original: ConntrackTuple
  reply: ConntrackTuple
  /** no packet seen in the reply direction yet */
  unreplied: boolean
  assured: boolean
  mark: string | null
  zone: number | null
}

function tuple(fields: Map<string, string>): ConntrackTuple | null {
  const src = fields.get('src')
  const dst = fields.get('dst')
  if (!src || !dst) return null
  const port = (key: string) => (fields.has(key) ? Number(fields.get(key)) : null)
  return {src, dst, sport: port('sport'), dport: port('dport')}
}

/** One flow line; null for anything else (the "N flow entries have been shown" footer, blanks). */
export function parseConntrackLine(line: string): ConntrackEntry | null {
  const words = line.trim().split(/\s+/)
  let i = 0
  if (/^ipv[46]$/.test(words[0] ?? '')) i = 2
  const protocol = words[i]
  if (!protocol || !/^\d+$/.test(words[i + 1] ?? '') || !/^\d+$/.test(words[i + 2] ?? '')) return null
  const timeout = Number(words[i + 2])
  i += 3
  let state: string | null = null
  if (words[i] && /^[A-Z_]+$/.test(words[i])) state = words[i++]
  const sides: Array<Map<string, string>> = [new Map(), new Map()]
  let side = 0
  let unreplied = false
  let assured = false
  let mark: string | null = null
  let zone: number | null = null
  for (; i < words.length; i++) {
    const word = words[i]
    if (word === '[UNREPLIED]') unreplied = true
    else if (word === '[ASSURED]') assured = true
    else if (word.startsWith('[')) continue
    const eq = word.indexOf('=')
    if (eq < 0) continue
    const key = word.slice(0, eq)
    const value = word.slice(eq + 1)
    if (key === 'mark') mark = value
    else if (key === 'zone') zone = Number(value)
    else if (['src', 'dst', 'sport', 'dport', 'type', 'code', 'id'].includes(key)) {
      // the reply tuple starts where a key the original already has comes again
      if (side === 0 && sides[0].has(key)) side = 1
      sides[side].set(key, value)
    }
  }
  const original = tuple(sides[0])
  const reply = tuple(sides[1])
  if (!original || !reply) return null
  return {protocol, timeout, state, original, reply, unreplied, assured, mark, zone}
}

/** Every flow of a `conntrack -L` listing. */
export function parseConntrack(text: string): ConntrackEntry[] {
  const out: ConntrackEntry[] = []
  for (const line of text.split('\n')) {
    const entry = parseConntrackLine(line)
    if (entry) out.push(entry)
  }
  return out
}
