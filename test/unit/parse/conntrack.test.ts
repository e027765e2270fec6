import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {natOf, parseConntrack, parseConntrackLine, parseConntrackTable} from '../../../src/parse/conntrack.js'

const FIXTURES = join(import.meta.dirname, '../../fixtures/inside')
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8')

describe('conntrack -L captured on real Kubernetes nodes', () => {
  it('reads a Service connection DNATed to its endpoint pod', () => {
    const {entries, bad} = parseConntrackTable(fixture('conntrack-L-aks-engine-1912.txt'))
    // the summary line lost its first letter in the poster's copy: not an entry, counted
    expect(bad).toBe(1)
    expect(entries).toHaveLength(3)
    expect(entries[1]).toEqual({
      family: 'ipv4',
      protocol: 'tcp',
      protocolNumber: 6,
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
    const {entries, bad} = parseConntrackTable(fixture('conntrack-L-kubernetes-38802.txt'))
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
  it('udp without a state, unreplied; icmp with type/code/id; timestamps', () => {
    expect(parseConntrackLine('udp      17 29 src=10.0.0.2 dst=10.96.0.10 sport=5353 dport=53 [UNREPLIED] src=10.0.0.9 dst=10.0.0.2 sport=53 dport=5353 mark=0 use=1')).toMatchObject({
      protocol: 'udp', state: null, flags: ['UNREPLIED'], original: {dport: 53}, reply: {src: '10.0.0.9'},
    })
    expect(parseConntrackLine('icmp     1 29 src=10.0.0.2 dst=10.0.0.3 type=8 code=0 id=7 src=10.0.0.3 dst=10.0.0.2 type=0 code=0 id=7 mark=0 use=1')).toMatchObject({
      protocol: 'icmp', original: {sport: null, extra: {type: '8', code: '0', id: '7'}}, reply: {extra: {type: '0'}},
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
