// Connection tracking entries, from /proc/net/nf_conntrack or `conntrack -L` (with or without
// `-o extended`): both print one entry a line in the kernel's own layout
//   [ipv4 2] tcp 6 <timeout> [STATE] src= dst= sport= dport= [UNREPLIED] src= dst= sport= dport= [ASSURED] mark= [zone=] use=
// where the first tuple is the original direction (as the client sent it) and the second the
// reply direction (as the server answers): a DNAT shows as a reply source that is not the
// original destination, an SNAT/masquerade as a reply destination that is not the original source.

import ipaddr from 'ipaddr.js'

export interface ConntrackTuple {
  src: string
  dst: string
  /** ports for tcp, udp, sctp, dccp; null for protocols without them (icmp: see `extra`) */
  sport: number | null
  dport: number | null
  /** other key=value pairs of the tuple (icmp type/code/id, packets/bytes with accounting on) */
  extra?: Record<string, string>
}

export interface ConntrackEntry {
  family: 'ipv4' | 'ipv6' | null
  protocol: string
  protocolNumber: number
  /** seconds before the kernel forgets the entry */
  timeoutSeconds: number
  /** tcp (and sctp, dccp) state; null for udp and icmp */
  state: string | null
  original: ConntrackTuple
  reply: ConntrackTuple
  /** ASSURED, UNREPLIED, OFFLOAD, HW_OFFLOAD */
  flags: string[]
  mark: number | null
  zone: number | null
  /** seconds since the entry was made: only when the kernel stamps entries (nf_conntrack_timestamp=1) */
  ageSeconds: number | null
}

const TUPLE_KEYS = new Set(['src', 'dst', 'sport', 'dport'])
/** keys of the entry itself, never of a tuple */
const ENTRY_KEYS = new Set(['mark', 'zone', 'use', 'secctx', 'secmark', 'delta-time', 'labels', 'helper', 'timestamp'])

/** /proc/net/nf_conntrack writes IPv6 in full (%pI6), conntrack compressed: both become ip's form. */
function canonical(address: string | undefined): string | undefined {
  if (!address || !address.includes(':')) return address
  return ipaddr.IPv6.isValid(address) ? ipaddr.IPv6.parse(address).toString() : undefined
}

function tuple(pairs: Array<[string, string]>): ConntrackTuple | undefined {
  const get = (k: string) => pairs.find(([key]) => key === k)?.[1]
  const src = canonical(get('src'))
  const dst = canonical(get('dst'))
  if (!src || !dst) return undefined
  const port = (k: string) => {
    const v = get(k)
    return v !== undefined && /^\d+$/.test(v) ? Number(v) : null
  }
  const extra = Object.fromEntries(pairs.filter(([k]) => !TUPLE_KEYS.has(k)))
  return {src, dst, sport: port('sport'), dport: port('dport'), ...(Object.keys(extra).length ? {extra} : {})}
}

/** One entry line; undefined for a line that is not one (conntrack's summary, a blank line). */
export function parseConntrackLine(line: string): ConntrackEntry | undefined {
  const tokens = line.trim().split(/\s+/)
  let i = 0
  let family: ConntrackEntry['family'] = null
  if (tokens[0] === 'ipv4' || tokens[0] === 'ipv6') {
    family = tokens[0]
    i = 2
  }
  const protocol = tokens[i]
  const protocolNumber = Number(tokens[i + 1])
  const timeoutSeconds = Number(tokens[i + 2])
  if (!protocol || !/^[a-z0-9]+$/.test(protocol) || !Number.isInteger(protocolNumber) || !Number.isInteger(timeoutSeconds)) return undefined
  i += 3
  let state: string | null = null
  if (tokens[i] && /^[A-Z_]+$/.test(tokens[i])) state = tokens[i++]

  const tuples: Array<Array<[string, string]>> = [[]]
  const flags: string[] = []
  const meta: Record<string, string> = {}
  for (; i < tokens.length; i++) {
    const token = tokens[i]
    const flag = /^\[([A-Z_]+)\]$/.exec(token)
    if (flag) {
      flags.push(flag[1])
      continue
    }
    const eq = token.indexOf('=')
    if (eq <= 0) continue
    const key = token.slice(0, eq)
    const value = token.slice(eq + 1)
    // icmp tuples carry an id of their own; elsewhere id= is the entry's (conntrack -o id)
    if (ENTRY_KEYS.has(key) || (key === 'id' && !protocol.startsWith('icmp'))) {
      meta[key] = value
      continue
    }
    // a second src= starts the reply tuple
    if (key === 'src' && tuples[tuples.length - 1].some(([k]) => k === 'src')) {
      if (tuples.length === 2) return undefined
      tuples.push([])
    }
    tuples[tuples.length - 1].push([key, value])
  }
  if (tuples.length !== 2) return undefined
  const original = tuple(tuples[0])
  const reply = tuple(tuples[1])
  if (!original || !reply) return undefined
  family ??= original.src.includes(':') ? 'ipv6' : 'ipv4'
  const num = (k: string) => (meta[k] !== undefined && /^\d+$/.test(meta[k]) ? Number(meta[k]) : null)
  return {family, protocol, protocolNumber, timeoutSeconds, state, original, reply, flags, mark: num('mark'), zone: num('zone'), ageSeconds: num('delta-time')}
}

/** Every entry of a table dump; lines that are not entries are counted, not fatal. */
export function parseConntrack(text: string): {entries: ConntrackEntry[]; bad: number} {
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
