import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {natOf, parseConntrack, parseConntrackLine, parseConntrackTable} from '../../../src/parse/conntrack.js'

const fixture = (name: string) => readFileSync(join(__dirname, '../../fixtures/probe', name), 'utf8')
const inside = (name: string) => readFileSync(join(__dirname, '../../fixtures/inside', name), 'utf8')

describe('conntrack -L', () => {
  it('reads a DNATed TCP flow: the reply tuple names the endpoint (kubernetes#91216)', () => {
    const flows = parseConntrack(fixture('conntrack-L-k8s-91216.txt'))
    expect(flows).toHaveLength(5)
    expect(flows[0]).toEqual({
      protocol: 'tcp', timeout: 56, state: 'TIME_WAIT',
      original: {src: '10.64.4.48', dst: '10.0.0.10', sport: 41993, dport: 53},
      reply: {src: '10.64.1.6', dst: '10.64.4.48', sport: 53, dport: 41993},
      flags: ['ASSURED'],
      family: 'ipv4', mark: 0, zone: null, ageSeconds: null,
    })
    // to the kube-dns ClusterIP, answered by two CoreDNS pods
    expect(new Set(flows.filter((f) => f.original.dst === '10.0.0.10').map((f) => f.reply.src))).toEqual(new Set(['10.64.1.6', '10.64.2.4']))
    // a flow that was not DNATed: the reply comes from where it was sent
    expect(flows[2].reply.src).toBe(flows[2].original.dst)
  })

  it('reads a UDP flow, which has no state (kubernetes#127318)', () => {
    expect(parseConntrack(fixture('conntrack-L-k8s-127318.txt'))).toEqual([{
      protocol: 'udp', timeout: 27, state: null,
      original: {src: '10.244.2.3', dst: '10.96.227.14', sport: 58730, dport: 3000},
      reply: {src: '10.244.1.3', dst: '10.244.2.3', sport: 5000, dport: 58730},
      flags: [],
      family: 'ipv4', mark: 0, zone: null, ageSeconds: null,
    }])
  })

  it('reads UNREPLIED and a masqueraded reply (captured here)', () => {
    const [udp, tcp] = parseConntrack(fixture('conntrack-L-netns.txt'))
    expect(udp).toMatchObject({protocol: 'udp', flags: ['UNREPLIED'], original: {sport: 40200, dport: 9999}, reply: {src: '10.254.1.2', sport: 9999}})
    expect(tcp).toMatchObject({state: 'TIME_WAIT', original: {src: '172.31.0.1', dst: '10.96.0.10', sport: 40201, dport: 80}, reply: {src: '10.254.3.2', dst: '10.254.3.1', sport: 8080}})
  })

  it('takes -o extended lines and skips what is not a flow', () => {
    expect(parseConntrackLine('ipv4     2 tcp      6 431999 ESTABLISHED src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1 [ASSURED] mark=0 zone=3 use=1'))
      .toMatchObject({protocol: 'tcp', state: 'ESTABLISHED', flags: ['ASSURED'], original: {sport: 1}, reply: {sport: 2}})
    expect(parseConntrackLine('conntrack v1.4.7 (conntrack-tools): 2 flow entries have been shown.')).toBeUndefined()
    expect(parseConntrackLine('')).toBeUndefined()
  })
})

describe('conntrack -L captured on real Kubernetes nodes', () => {
  it('reads a Service connection DNATed to its endpoint pod', () => {
    const {entries, bad} = parseConntrackTable(inside('conntrack-L-aks-engine-1912.txt'))
    // the summary line lost its first letter in the poster's copy: not an entry, counted
    expect(bad).toBe(1)
    expect(entries).toHaveLength(3)
    expect(entries[1]).toEqual({
      family: 'ipv4',
      protocol: 'tcp',
      timeout: 299,
      state: 'ESTABLISHED',
      original: {src: '10.244.2.6', dst: '10.0.223.224', sport: 34659, dport: 27017},
      reply: {src: '10.244.1.7', dst: '10.244.2.6', sport: 27017, dport: 34659},
      flags: ['ASSURED'],
      mark: 0,
      zone: null,
      ageSeconds: null,
    })
    expect(natOf(entries[1])).toEqual({dnat: true, snat: false})
    expect(natOf(entries[0])).toEqual({dnat: false, snat: false})
  })

  it('reads states and a masqueraded entry', () => {
    const {entries, bad} = parseConntrackTable(inside('conntrack-L-kubernetes-38802.txt'))
    expect(bad).toBe(0)
    expect(entries.map((e) => e.state)).toEqual(['CLOSE_WAIT', 'CLOSE_WAIT', 'ESTABLISHED', 'CLOSE_WAIT', 'CLOSE_WAIT', 'ESTABLISHED', 'ESTABLISHED'])
    expect(natOf(entries[6])).toEqual({dnat: false, snat: true})
  })
})

describe('conntrack line forms', () => {
  it('/proc/net/nf_conntrack: family first, zone, IPv6 written in full', () => {
    const entry = parseConntrackLine('ipv6     10 tcp      6 431999 ESTABLISHED src=fd00:0000:0000:0000:0000:0000:0000:0005 dst=fd00:0000:0000:0000:0000:0000:0000:0a0a sport=40000 dport=80 src=fd00:0000:0000:0000:0000:0000:0000:0007 dst=fd00:0000:0000:0000:0000:0000:0000:0005 sport=8080 dport=40000 [ASSURED] mark=0 zone=0 use=2')
    expect(entry).toMatchObject({family: 'ipv6', original: {src: 'fd00::5', dst: 'fd00::a0a'}, reply: {src: 'fd00::7', sport: 8080}, zone: 0, mark: 0})
  })
  it('udp without a state, unreplied; icmp without ports; timestamps', () => {
    expect(parseConntrackLine('udp      17 29 src=10.0.0.2 dst=10.96.0.10 sport=5353 dport=53 [UNREPLIED] src=10.0.0.9 dst=10.0.0.2 sport=53 dport=5353 mark=0 use=1')).toMatchObject({
      protocol: 'udp', state: null, flags: ['UNREPLIED'], original: {dport: 53}, reply: {src: '10.0.0.9'},
    })
    expect(parseConntrackLine('icmp     1 29 src=10.0.0.2 dst=10.0.0.3 type=8 code=0 id=7 src=10.0.0.3 dst=10.0.0.2 type=0 code=0 id=7 mark=0 use=1')).toMatchObject({
      protocol: 'icmp', original: {sport: null, dport: null}, reply: {src: '10.0.0.3'},
    })
    expect(parseConntrackLine('ipv4     2 tcp      6 117 TIME_WAIT src=10.0.0.2 dst=10.0.0.3 sport=1 dport=2 src=10.0.0.3 dst=10.0.0.2 sport=2 dport=1 [ASSURED] mark=0 delta-time=42 use=1')?.ageSeconds).toBe(42)
  })
  it('refuses lines that are not entries', () => {
    expect(parseConntrackLine('')).toBeUndefined()
    expect(parseConntrackLine('tcp 6 10 ESTABLISHED src=1.1.1.1 dst=2.2.2.2')).toBeUndefined()
    expect(parseConntrackLine('conntrack v1.4.7 (conntrack-tools): 3 flow entries have been shown.')).toBeUndefined()
    expect(parseConntrack('conntrack v1.4.7 (conntrack-tools): 0 flow entries have been shown.\n\n')).toEqual([])
  })
})
