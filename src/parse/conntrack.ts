// Connection tracking entries, from /proc/net/nf_conntrack or `conntrack -L` (with or without
// `-o extended`): both print one entry a line in the kernel's own layout (the one conntrack
// parser: `conntrack` and `why` read it)
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
  /** seconds left before the kernel forgets the entry */
  timeout: number
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

/** keys of the entry itself, never of a tuple */
const ENTRY_KEYS = new Set(['mark', 'zone', 'use', 'secctx', 'secmark', 'delta-time', 'labels', 'helper', 'timestamp'])
const HEAD = /^\s*(?:(ipv4|ipv6)\s+\d+\s+)?([a-z0-9]+)\s+(\d+)\s+(\d+)(?:\s+([A-Z_]+)(?=\s|$))?/
const TOKEN = /\[([A-Z_]+)\]|([a-z][a-z0-9-]*)=(\S*)/g

/** /proc/net/nf_conntrack writes IPv6 in full (%pI6), conntrack compressed: both become ip's form. */
function canonical(address: string | undefined): string | undefined {
  if (!address || !address.includes(':')) return address
  return ipaddr.IPv6.isValid(address) ? ipaddr.IPv6.parse(address).toString() : undefined
}

interface TupleDraft {
  src?: string
  dst?: string
  sport?: string
  dport?: string
  extra?: Record<string, string>
}

function tuple(d: TupleDraft): ConntrackTuple | undefined {
  const src = canonical(d.src)
  const dst = canonical(d.dst)
  if (!src || !dst) return undefined
  const port = (v: string | undefined) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : null)
  return {src, dst, sport: port(d.sport), dport: port(d.dport), ...(d.extra ? {extra: d.extra} : {})}
}

/**
 * One entry line; undefined for a line that is not one (conntrack's summary, a blank line).
 * One regular expression over the line, no token arrays: a busy node's table is a few hundred
 * thousand lines.
 */
export function parseConntrackLine(line: string): ConntrackEntry | undefined {
  const head = HEAD.exec(line)
  if (!head) return undefined
  const protocol = head[2]
  const icmp = protocol.startsWith('icmp')
  const tuples: TupleDraft[] = [{}]
  const flags: string[] = []
  const meta: Record<string, string> = {}
  TOKEN.lastIndex = head[0].length
  for (let m = TOKEN.exec(line); m; m = TOKEN.exec(line)) {
    if (m[1]) {
      flags.push(m[1])
      continue
    }
    const key = m[2]
    const value = m[3]
    // icmp tuples carry an id of their own; elsewhere id= is the entry's (conntrack -o id)
    if (ENTRY_KEYS.has(key) || (key === 'id' && !icmp)) {
      meta[key] = value
      continue
    }
    let t = tuples[tuples.length - 1]
    // a second src= starts the reply tuple
    if (key === 'src' && t.src !== undefined) {
      if (tuples.length === 2) return undefined
      t = {}
      tuples.push(t)
    }
    if (key === 'src' || key === 'dst' || key === 'sport' || key === 'dport') t[key] = value
    else (t.extra ??= {})[key] = value
  }
  if (tuples.length !== 2) return undefined
  const original = tuple(tuples[0])
  const reply = tuple(tuples[1])
  if (!original || !reply) return undefined
  const family = (head[1] as ConntrackEntry['family']) ?? (original.src.includes(':') ? 'ipv6' : 'ipv4')
  const num = (k: string) => (meta[k] !== undefined && /^\d+$/.test(meta[k]) ? Number(meta[k]) : null)
  return {
    family, protocol, protocolNumber: Number(head[3]), timeout: Number(head[4]), state: head[5] ?? null,
    original, reply, flags, mark: num('mark'), zone: num('zone'), ageSeconds: num('delta-time'),
  }
}

/** Every entry of a table dump; lines that are not entries are counted, not fatal. */
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

/** Every entry of a table dump; lines that are not entries are skipped. */
export function parseConntrack(text: string): ConntrackEntry[] {
  return parseConntrackTable(text).entries
}

/** What the kernel rewrote: a DNAT when the answer comes from elsewhere, an SNAT when it goes elsewhere. */
export function natOf(entry: ConntrackEntry): {dnat: boolean; snat: boolean} {
  return {
    dnat: entry.reply.src !== entry.original.dst || (entry.reply.sport !== null && entry.reply.sport !== entry.original.dport),
    snat: entry.reply.dst !== entry.original.src || (entry.reply.dport !== null && entry.reply.dport !== entry.original.sport),
  }
}
