// Sockets of one network namespace, from /proc/<pid>/net/{tcp,tcp6,udp,udp6}: who listens where.

export interface SocketRecord {
  protocol: 'tcp' | 'udp'
  local: string
  localPort: number
  remote: string
  remotePort: number
  /** the kernel's state number: 0x0A LISTEN for tcp, 0x07 (CLOSE, unconnected) for a bound udp socket */
  state: number
  inode: number
}

export const TCP_LISTEN = 0x0a

/** The kernel prints each 32-bit word of an address in host byte order (little-endian here). */
function address(hex: string): string {
  const words = hex.match(/.{8}/g) ?? []
  const bytes = words.flatMap((w) => [w.slice(6, 8), w.slice(4, 6), w.slice(2, 4), w.slice(0, 2)].map((b) => Number.parseInt(b, 16)))
  if (bytes.length === 4) return bytes.join('.')
  if (bytes.length === 16) {
    // ::ffff:a.b.c.d (a v4 socket on a v6 one) reads as the v4 address
    if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return bytes.slice(12).join('.')
    const groups: string[] = []
    for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16))
    return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::').replace(/:{3,}/, '::')
  }
  return hex
}

export function parseProcNetSockets(text: string, protocol: 'tcp' | 'udp'): SocketRecord[] {
  const out: SocketRecord[] = []
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/)
    if (!/^\d+:$/.test(f[0] ?? '')) continue
    const [localHex, localPort] = f[1].split(':')
    const [remoteHex, remotePort] = f[2].split(':')
    if (!localPort || !remotePort) continue
    out.push({
      protocol,
      local: address(localHex),
      localPort: Number.parseInt(localPort, 16),
      remote: address(remoteHex),
      remotePort: Number.parseInt(remotePort, 16),
      state: Number.parseInt(f[3], 16),
      inode: Number(f[9] ?? 0),
    })
  }
  return out
}

/** Whether a socket answers new traffic to ip:port: a tcp listener, or an unconnected bound udp socket. */
export function answers(sockets: SocketRecord[], protocol: 'tcp' | 'udp', ip: string, port: number): SocketRecord | undefined {
  return sockets.find((s) =>
    s.protocol === protocol && s.localPort === port &&
    (protocol === 'tcp' ? s.state === TCP_LISTEN : s.remotePort === 0) &&
    (s.local === ip || s.local === '0.0.0.0' || s.local === '::'))
}
