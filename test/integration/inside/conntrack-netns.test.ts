// Conntrack entries the kernel really made, read both ways nodedoc reads them: a client
// namespace DNATs a virtual IP to a server namespace over a veth pair (tcp, udp and icmp), then
// /proc/<pid>/net/nf_conntrack of a process in it and `conntrack -L` inside it must agree.
import {randomBytes} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {type ResultPromise, execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {type ConntrackEntry, natOf, parseConntrackTable} from '../../../src/parse/conntrack.js'
import {Netns, must} from '../svc/netns.js'

const tag = randomBytes(3).toString('hex')
const VIP = '10.254.77.7'
const CLIENT_IP = '10.254.1.1'
const SERVER_IP = '10.254.1.2'
let client: Netns
let server: Netns
let holder: ResultPromise | undefined
let listener: ResultPromise | undefined
let udpListener: ResultPromise | undefined
let conn: ResultPromise | undefined

beforeAll(async () => {
  client = await Netns.create(`nd-ct-${tag}-c`)
  server = await Netns.create(`nd-ct-${tag}-s`)
  await must(['ip', 'link', 'add', `ndct${tag}c`, 'netns', client.name, 'type', 'veth', 'peer', 'name', `ndct${tag}s`, 'netns', server.name])
  await client.must(['ip', 'addr', 'add', `${CLIENT_IP}/24`, 'dev', `ndct${tag}c`])
  await server.must(['ip', 'addr', 'add', `${SERVER_IP}/24`, 'dev', `ndct${tag}s`])
  await client.must(['ip', 'link', 'set', `ndct${tag}c`, 'up'])
  await server.must(['ip', 'link', 'set', `ndct${tag}s`, 'up'])
  // the VIP is reached through the server: DNAT in the client's OUTPUT, as kube-proxy does for a node's own traffic
  await client.must(['ip', 'route', 'add', `${VIP}/32`, 'via', SERVER_IP])
  await client.must(['iptables', '-t', 'nat', '-A', 'OUTPUT', '-d', `${VIP}/32`, '-p', 'tcp', '--dport', '80', '-j', 'DNAT', '--to-destination', `${SERVER_IP}:8080`])
  await client.must(['iptables', '-t', 'nat', '-A', 'OUTPUT', '-d', `${VIP}/32`, '-p', 'udp', '--dport', '53', '-j', 'DNAT', '--to-destination', `${SERVER_IP}:5353`])
  listener = execa('ip', ['netns', 'exec', server.name, 'socat', 'TCP-LISTEN:8080,bind=' + SERVER_IP + ',fork,reuseaddr', 'SYSTEM:cat'], {reject: false})
  udpListener = execa('ip', ['netns', 'exec', server.name, 'socat', `UDP-RECVFROM:5353,bind=${SERVER_IP},fork`, 'SYSTEM:cat'], {reject: false})
  await new Promise((done) => setTimeout(done, 300))
  // a held TCP connection, one UDP exchange, one ping: each leaves an entry in the client's table
  conn = execa('ip', ['netns', 'exec', client.name, 'socat', '-', `TCP:${VIP}:80`], {reject: false, stdin: 'pipe'})
  conn.stdin!.write('hello\n')
  await client.must(['sh', '-c', `echo ping | socat -T1 - UDP:${VIP}:53`]).catch(() => '')
  await client.must(['busybox', 'ping', '-c', '1', '-W', '1', SERVER_IP])
  // a process inside the client namespace, whose /proc/<pid>/net is that namespace's
  holder = execa('ip', ['netns', 'exec', client.name, 'sleep', '600'], {reject: false})
  await new Promise((done) => setTimeout(done, 300))
})

afterAll(async () => {
  for (const p of [conn, holder, listener, udpListener]) p?.kill('SIGKILL')
  await Promise.all([conn, holder, listener, udpListener])
  // the entries live in the namespaces' own tables: they go with them
  await client?.delete()
  await server?.delete()
})

describe('conntrack entries of a real DNAT', () => {
  let fromProc: ConntrackEntry[]
  let fromTool: ConntrackEntry[]
  let fromExtended: ConntrackEntry[]

  beforeAll(async () => {
    const proc = readFileSync(`/proc/${holder!.pid!}/net/nf_conntrack`, 'utf8') // ip netns exec execs sleep: the same PID
    const parsed = parseConntrackTable(proc)
    expect(parsed.bad).toBe(0)
    fromProc = parsed.entries
    fromTool = parseConntrackTable(await client.must(['conntrack', '-L'])).entries
    fromExtended = parseConntrackTable(await client.must(['conntrack', '-L', '-o', 'extended'])).entries
  })

  it('reads the TCP connection DNATed from the virtual IP to the server', () => {
    const tcp = fromProc.find((e) => e.protocol === 'tcp' && e.original.dst === VIP)
    expect(tcp).toMatchObject({
      family: 'ipv4', state: 'ESTABLISHED',
      original: {src: CLIENT_IP, dst: VIP, dport: 80},
      reply: {src: SERVER_IP, dst: CLIENT_IP, sport: 8080},
      flags: ['ASSURED'],
    })
    expect(natOf(tcp!)).toEqual({dnat: true, snat: false})
  })

  it('reads the UDP exchange and the ping', () => {
    expect(fromProc.find((e) => e.protocol === 'udp' && e.original.dst === VIP)).toMatchObject({state: null, reply: {src: SERVER_IP, sport: 5353}})
    const icmp = fromProc.find((e) => e.protocol === 'icmp')
    expect(icmp).toMatchObject({original: {src: CLIENT_IP, sport: null, dport: null}, reply: {dst: CLIENT_IP}})
  })

  it('gives the same entries from /proc/<pid>/net/nf_conntrack, conntrack -L and conntrack -L -o extended', () => {
    // timeouts tick between the reads; everything else is the same
    const key = (e: ConntrackEntry) => JSON.stringify({...e, timeout: 0, family: e.family, zone: null})
    const sorted = (list: ConntrackEntry[]) => list.map(key).sort()
    expect(fromProc.length).toBeGreaterThanOrEqual(3)
    expect(sorted(fromTool)).toEqual(sorted(fromProc))
    expect(sorted(fromExtended)).toEqual(sorted(fromProc))
  })
})
