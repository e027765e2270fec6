// A network namespace seen through /proc/<pid>/net/* (no nsenter needed), and links from `ip -j -d link`.

/** /proc/<pid>/net/fib_trie: the addresses marked "host LOCAL", i.e. the namespace's own IPv4 addresses. */
export function parseFibTrieLocal(text: string): string[] {
  const local = new Set<string>()
  let current: string | undefined
  for (const line of text.split('\n')) {
    const leaf = /\|--\s+(\d+\.\d+\.\d+\.\d+)/.exec(line)
    if (leaf) {
      current = leaf[1]
      continue
    }
    if (current && /\/32 host LOCAL/.test(line)) local.add(current)
  }
  return [...local]
}

/** /proc/<pid>/net/dev: interface names. */
export function parseNetDev(text: string): string[] {
  return text
    .split('\n')
    .slice(2)
    .map((line) => line.split(':')[0].trim())
    .filter(Boolean)
}

export interface Inet6Address {
  address: string
  ifindex: number
  prefixLength: number
  scope: 'global' | 'link' | 'host' | 'site' | 'other'
  device: string
}

const SCOPES: Record<string, Inet6Address['scope']> = {'00': 'global', '20': 'link', '10': 'host', '40': 'site'}

/** /proc/<pid>/net/if_inet6: "addr ifindex prefixlen scope flags device", all hex. */
export function parseIfInet6(text: string): Inet6Address[] {
  const out: Inet6Address[] = []
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/)
    if (f.length < 6 || f[0].length !== 32) continue
    const groups = f[0].match(/.{4}/g)!.map((g) => g.replace(/^0+(?=.)/, ''))
    out.push({
      address: compressIPv6(groups),
      ifindex: Number.parseInt(f[1], 16),
      prefixLength: Number.parseInt(f[2], 16),
      scope: SCOPES[f[3]] ?? 'other',
      device: f[5],
    })
  }
  return out
}

function compressIPv6(groups: string[]): string {
  // the longest run of zero groups becomes "::"
  let bestStart = -1
  let bestLength = 0
  for (let i = 0; i < groups.length;) {
    if (groups[i] !== '0') {
      i++
      continue
    }
    let j = i
    while (j < groups.length && groups[j] === '0') j++
    if (j - i > bestLength && j - i > 1) {
      bestStart = i
      bestLength = j - i
    }
    i = j
  }
  if (bestStart < 0) return groups.join(':')
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLength).join(':')}`
}

/** /proc/<pid>/net/igmp: "Idx Device" rows give each interface's ifindex in that namespace. */
export function parseIgmpIfindex(text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n').slice(1)) {
    const match = /^(\d+)\s+(\S+)\s*:/.exec(line)
    if (match) out.set(match[2], Number(match[1]))
  }
  return out
}

export interface LinkRecord {
  name: string
  ifindex: number
  /** the peer's ifindex (veth) or the lower device's */
  iflink: number | null
  /** the namespace id of the peer as this namespace numbers it (`ip netns list-id`) */
  linkNetnsId: number | null
  kind: string | null
  master: string | null
  mac: string | null
  state: string | null
}

interface IpLinkJson {
  ifname: string
  ifindex: number
  link_index?: number
  link_netnsid?: number
  link?: string
  master?: string
  address?: string
  operstate?: string
  linkinfo?: {info_kind?: string; info_slave_kind?: string}
}

/** `ip -j -d link show`. */
export function parseIpLinkJson(text: string): LinkRecord[] {
  return (JSON.parse(text) as IpLinkJson[]).map((l) => ({
    name: l.ifname,
    ifindex: l.ifindex,
    iflink: l.link_index ?? null,
    linkNetnsId: l.link_netnsid ?? null,
    kind: l.linkinfo?.info_kind ?? null,
    master: l.master ?? null,
    mac: l.address ?? null,
    state: l.operstate ?? null,
  }))
}

/** `ip -j netns list-id`: [{nsid, name}] for the named namespaces this one has ids for. */
export function parseNetnsListId(text: string): Map<number, string> {
  const out = new Map<number, string>()
  if (!text.trim()) return out
  for (const entry of JSON.parse(text) as Array<{nsid: number; name?: string}>) if (entry.name) out.set(entry.nsid, entry.name)
  return out
}

// Sockets, as the kernel lists them per network namespace in /proc/<pid>/net/{tcp,tcp6,udp,udp6,unix}.

export type SocketProtocol = 'tcp' | 'udp' | 'unix'
export type SocketFamily = 'ipv4' | 'ipv6' | 'unix'

/** One row of /proc/<pid>/net/{tcp,tcp6,udp,udp6}. */
export interface InetSocket {
  protocol: 'tcp' | 'udp'
  family: 'ipv4' | 'ipv6'
  /** the kernel's TCP state name (LISTEN, ESTABLISHED, TIME_WAIT, ...); UDP: UNCONN or ESTABLISHED, as ss says */
  state: string
  localAddress: string
  localPort: number
  peerAddress: string
  peerPort: number
  sendQueue: number
  recvQueue: number
  uid: number
  /** 0 for sockets no file holds (TIME_WAIT, a listener's pending connections) */
  inode: number
}

// include/net/tcp_states.h, in order from 1
const TCP_STATES = ['', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'CLOSING', 'NEW_SYN_RECV']
const TCP_CLOSE = 7
const TCP_ESTABLISHED = 1

/**
 * An address as the kernel prints it there: each 32-bit word of the network-order address in
 * host byte order (`%08X`), so on the little-endian machines Kubernetes runs on (x86-64,
 * arm64) every word's bytes come reversed.
 */
export function decodeProcNetAddress(hex: string): string | undefined {
  if (!/^[0-9A-Fa-f]+$/.test(hex) || (hex.length !== 8 && hex.length !== 32)) return undefined
  const bytes: number[] = []
  for (let word = 0; word < hex.length; word += 8) {
    for (let i = 6; i >= 0; i -= 2) bytes.push(Number.parseInt(hex.slice(word + i, word + i + 2), 16))
  }
  if (bytes.length === 4) return bytes.join('.')
  // ::ffff:a.b.c.d, as ss and ip write an IPv4-mapped address
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return `::ffff:${bytes.slice(12).join('.')}`
  const groups: string[] = []
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16))
  return compressIPv6(groups)
}

/** /proc/<pid>/net/tcp, tcp6, udp or udp6. Rows that do not parse are skipped and counted. */
export function parseProcNetSockets(text: string, protocol: 'tcp' | 'udp', family: 'ipv4' | 'ipv6'): {sockets: InetSocket[]; bad: number} {
  const sockets: InetSocket[] = []
  let bad = 0
  for (const line of text.split('\n').slice(1)) {
    if (!line.trim()) continue
    const f = line.trim().split(/\s+/)
    const [localHex, localPortHex] = (f[1] ?? '').split(':')
    const [peerHex, peerPortHex] = (f[2] ?? '').split(':')
    const [txHex, rxHex] = (f[4] ?? '').split(':')
    const localAddress = decodeProcNetAddress(localHex ?? '')
    const peerAddress = decodeProcNetAddress(peerHex ?? '')
    const stateNumber = Number.parseInt(f[3] ?? '', 16)
    if (f.length < 10 || !localAddress || !peerAddress || !TCP_STATES[stateNumber] || !/^\d+$/.test(f[7]) || !/^\d+$/.test(f[9])) {
      bad++
      continue
    }
    const state = protocol === 'udp' ? (stateNumber === TCP_ESTABLISHED ? 'ESTABLISHED' : stateNumber === TCP_CLOSE ? 'UNCONN' : TCP_STATES[stateNumber]) : TCP_STATES[stateNumber]
    sockets.push({
      protocol,
      family,
      state,
      localAddress,
      localPort: Number.parseInt(localPortHex, 16),
      peerAddress,
      peerPort: Number.parseInt(peerPortHex, 16),
      sendQueue: Number.parseInt(txHex, 16),
      recvQueue: Number.parseInt(rxHex, 16),
      uid: Number(f[7]),
      inode: Number(f[9]),
    })
  }
  return {sockets, bad}
}

/** One row of /proc/<pid>/net/unix. */
export interface UnixSocket {
  type: 'stream' | 'dgram' | 'seqpacket' | 'unknown'
  /** LISTEN (accepting connections), ESTABLISHED, CONNECTING, DISCONNECTING or UNCONN, as ss says */
  state: string
  inode: number
  /** the bound name: a path, "@name" for the abstract namespace; null when unbound */
  path: string | null
}

const UNIX_TYPES: Record<number, UnixSocket['type']> = {1: 'stream', 2: 'dgram', 5: 'seqpacket'}
const UNIX_STATES: Record<number, string> = {1: 'UNCONN', 2: 'CONNECTING', 3: 'ESTABLISHED', 4: 'DISCONNECTING'}
// __SO_ACCEPTCON: the socket listens
const SO_ACCEPTCON = 0x10000
const UNIX_ROW = /^([0-9a-fA-F]+): ([0-9a-fA-F]{8}) ([0-9a-fA-F]{8}) ([0-9a-fA-F]{8}) ([0-9a-fA-F]{4}) ([0-9a-fA-F]{2}) +(\d+)(?: (.*))?$/

/**
 * /proc/<pid>/net/unix. The kernel prints a bound path byte for byte, newlines included, so a
 * pod can put what looks like rows into a socket's name: a line that is not a row continues
 * the path above it, and of two rows claiming one inode the first (the kernel's) wins.
 */
export function parseProcNetUnix(text: string): UnixSocket[] {
  const byInode = new Map<number, UnixSocket>()
  let last: UnixSocket | undefined
  for (const line of text.split('\n').slice(1)) {
    const row = UNIX_ROW.exec(line)
    if (!row) {
      if (last && last.path !== null && line !== '') last.path += `\n${line}`
      continue
    }
    const flags = Number.parseInt(row[4], 16)
    const type = UNIX_TYPES[Number.parseInt(row[5], 16)] ?? 'unknown'
    const st = Number.parseInt(row[6], 16)
    const socket: UnixSocket = {type, state: flags & SO_ACCEPTCON ? 'LISTEN' : (UNIX_STATES[st] ?? String(st)), inode: Number(row[7]), path: row[8] ?? null}
    // a second row for an inode already seen is made up: it and its continuation lines go nowhere
    last = byInode.has(socket.inode) ? undefined : socket
    if (last) byInode.set(socket.inode, socket)
  }
  return [...byInode.values()]
}

/** The inode of a `/proc/<pid>/fd/N` link that is a socket ("socket:[12345]"). */
export function socketInode(link: string): number | undefined {
  const match = /^socket:\[(\d+)\]$/.exec(link)
  return match ? Number(match[1]) : undefined
}
