import {execFileSync} from 'node:child_process'
import {createSocket} from 'node:dgram'
import {readFileSync, readdirSync, readlinkSync, rmSync} from 'node:fs'
import {type AddressInfo, createServer} from 'node:net'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {decodeProcNetAddress, parseProcNetSockets, parseProcNetUnix, socketInode} from '../../../src/parse/sockets.js'

const FIXTURES = join(import.meta.dirname, '../../fixtures/inside')
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8')

/** The inodes of the sockets this process holds, from its own fd links. */
function ownSocketInodes(): Set<number> {
  const out = new Set<number>()
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const inode = socketInode(readlinkSync(`/proc/self/fd/${fd}`))
      if (inode !== undefined) out.add(inode)
    } catch {
      // the descriptor readdir itself used
    }
  }
  return out
}

describe('/proc/net/tcp and tcp6 captured on real machines', () => {
  it('tcp: listeners with little-endian addresses, uids and inodes', () => {
    const {sockets, bad} = parseProcNetSockets(fixture('proc-net-tcp-mediamtx-3226.txt'), 'tcp', 'ipv4')
    expect(bad).toBe(0)
    expect(sockets).toHaveLength(9)
    expect(sockets[0]).toEqual({protocol: 'tcp', family: 'ipv4', state: 'LISTEN', localAddress: '127.0.0.1', localPort: 25, peerAddress: '0.0.0.0', peerPort: 0, sendQueue: 0, recvQueue: 0, uid: 0, inode: 21981})
    expect(sockets.map((s) => `${s.localAddress}:${s.localPort}`)).toEqual(['127.0.0.1:25', '0.0.0.0:10250', '127.0.0.1:3306', '0.0.0.0:10251', '127.0.0.1:5038', '0.0.0.0:10350', '0.0.0.0:10255', '0.0.0.0:111', '0.0.0.0:8080'])
    expect(sockets.map((s) => s.uid)).toEqual([0, 0, 106, 0, 111, 0, 0, 0, 0])
  })

  it('tcp6: loopback listeners and an established connection between global addresses', () => {
    const {sockets} = parseProcNetSockets(fixture('proc-net-tcp6-netdata-5322.txt'), 'tcp', 'ipv6')
    expect(sockets.map((s) => [s.state, s.localAddress, s.localPort, s.peerAddress, s.peerPort, s.inode])).toEqual([
      ['LISTEN', '::1', 631, '::', 0, 2903],
      ['LISTEN', '::1', 8125, '::', 0, 3396178],
      ['ESTABLISHED', '2001:1c02:2200:ff00:5611:2abd:cd1a:e2db', 55022, '2a00:1450:4013:c07::bc', 443, 3123030],
    ])
  })

  it('decodes IPv4-mapped addresses as ip writes them, and refuses what is not an address', () => {
    expect(decodeProcNetAddress('0000000000000000FFFF00000100007F')).toBe('::ffff:127.0.0.1')
    expect(decodeProcNetAddress('0100007')).toBeUndefined()
    expect(decodeProcNetAddress('0100007G')).toBeUndefined()
  })

  it('skips and counts rows that are not rows', () => {
    const text = fixture('proc-net-tcp-mediamtx-3226.txt') + '   9: garbage\n'
    expect(parseProcNetSockets(text, 'tcp', 'ipv4').bad).toBe(1)
  })
})

describe('/proc/self/net of this machine, against sockets this test opens', () => {
  it('finds a TCP listener on 127.0.0.1 and one on ::1 with the inodes our fds name', async () => {
    const v4 = createServer()
    const v6 = createServer()
    await new Promise<void>((done) => v4.listen(0, '127.0.0.1', done))
    await new Promise<void>((done) => v6.listen(0, '::1', done))
    try {
      const mine = ownSocketInodes()
      const tcp = parseProcNetSockets(readFileSync('/proc/self/net/tcp', 'utf8'), 'tcp', 'ipv4').sockets
      const tcp6 = parseProcNetSockets(readFileSync('/proc/self/net/tcp6', 'utf8'), 'tcp', 'ipv6').sockets
      const a = tcp.find((s) => s.localPort === (v4.address() as AddressInfo).port && s.state === 'LISTEN')
      const b = tcp6.find((s) => s.localPort === (v6.address() as AddressInfo).port && s.state === 'LISTEN')
      expect(a).toMatchObject({localAddress: '127.0.0.1', peerAddress: '0.0.0.0', peerPort: 0, uid: process.getuid!()})
      expect(b).toMatchObject({localAddress: '::1', peerAddress: '::'})
      expect(mine.has(a!.inode)).toBe(true)
      expect(mine.has(b!.inode)).toBe(true)
      // ss, asked by inode, names the same socket
      const ss = execFileSync('ss', ['-tlnHe', `sport = :${(v4.address() as AddressInfo).port}`], {encoding: 'utf8'})
      expect(ss).toContain(`ino:${a!.inode} `)
    } finally {
      v4.close()
      v6.close()
    }
  })

  it('finds an established TCP pair and an unconnected UDP socket', async () => {
    const server = createServer((socket) => socket.on('error', () => undefined))
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
    const port = (server.address() as AddressInfo).port
    const {connect} = await import('node:net')
    const clientSocket = connect(port, '127.0.0.1')
    await new Promise<void>((done) => clientSocket.on('connect', () => done()))
    const udp = createSocket('udp4')
    await new Promise<void>((done) => udp.bind(0, '127.0.0.1', () => done()))
    try {
      const tcp = parseProcNetSockets(readFileSync('/proc/self/net/tcp', 'utf8'), 'tcp', 'ipv4').sockets
      const out = tcp.find((s) => s.peerPort === port && s.localPort === clientSocket.localPort)
      expect(out).toMatchObject({state: 'ESTABLISHED', localAddress: '127.0.0.1', peerAddress: '127.0.0.1'})
      const udpRows = parseProcNetSockets(readFileSync('/proc/self/net/udp', 'utf8'), 'udp', 'ipv4').sockets
      expect(udpRows.find((s) => s.localPort === udp.address().port)).toMatchObject({protocol: 'udp', state: 'UNCONN', localAddress: '127.0.0.1'})
    } finally {
      clientSocket.destroy()
      udp.close()
      server.close()
    }
  })

  it('finds a UNIX listener by its path, and keeps a pod\'s newline-forged rows out', async () => {
    const path = `/tmp/nodedoc-unix-${process.pid}-${Date.now()}.sock`
    const server = createServer()
    await new Promise<void>((done) => server.listen(path, done))
    try {
      const rows = parseProcNetUnix(readFileSync('/proc/self/net/unix', 'utf8'))
      const mine = rows.find((s) => s.path === path)
      expect(mine).toMatchObject({type: 'stream', state: 'LISTEN'})
      expect(ownSocketInodes().has(mine!.inode)).toBe(true)
      // a socket named "x\n<a fake row>" is one socket with that name, not two sockets
      const forged = `Num       RefCount Protocol Flags    Type St Inode Path\n0000000000000000: 00000002 00000000 00010000 0001 01 111 /run/x\n0000000000000000: 00000002 00000000 00010000 0001 01 111 /run/fake\n0000000000000000: 00000002 00000000 00000000 0002 01 222\n`
      expect(parseProcNetUnix(forged)).toEqual([
        {type: 'stream', state: 'LISTEN', inode: 111, path: '/run/x'},
        {type: 'dgram', state: 'UNCONN', inode: 222, path: null},
      ])
      const continued = `Num       RefCount Protocol Flags    Type St Inode Path\n0000000000000000: 00000002 00000000 00010000 0001 01 111 /run/x\nsecond line of the name\n`
      expect(parseProcNetUnix(continued)[0].path).toBe('/run/x\nsecond line of the name')
    } finally {
      server.close()
      rmSync(path, {force: true})
    }
  })

  it('reads fd links', () => {
    expect(socketInode('socket:[12345]')).toBe(12345)
    expect(socketInode('pipe:[12345]')).toBeUndefined()
    expect(socketInode('/dev/null')).toBeUndefined()
  })
})
