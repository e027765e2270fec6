// Sockets, as the kernel lists them per network namespace in /proc/<pid>/net/{tcp,tcp6,udp,udp6,unix}
// (`sockets` lists them, `why` asks whether an endpoint answers on its port).

import {compressIPv6} from './net.js'

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

/** Whether a socket answers new traffic to ip:port: a tcp listener, or an unconnected bound udp socket. */
export function answers(sockets: InetSocket[], protocol: 'tcp' | 'udp', ip: string, port: number): InetSocket | undefined {
  return sockets.find((s) =>
    s.protocol === protocol && s.localPort === port &&
    (protocol === 'tcp' ? s.state === 'LISTEN' : s.peerPort === 0) &&
    [ip, `::ffff:${ip}`, '0.0.0.0', '::'].includes(s.localAddress))
}
