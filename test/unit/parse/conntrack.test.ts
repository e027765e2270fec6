import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {parseConntrack, parseConntrackLine} from '../../../src/parse/conntrack.js'

const fixture = (name: string) => readFileSync(join(__dirname, '../../fixtures/probe', name), 'utf8')

describe('conntrack -L', () => {
  it('reads a DNATed TCP flow: the reply tuple names the endpoint (kubernetes#91216)', () => {
    const flows = parseConntrack(fixture('conntrack-L-k8s-91216.txt'))
    expect(flows).toHaveLength(5)
    expect(flows[0]).toEqual({
      protocol: 'tcp', timeout: 56, state: 'TIME_WAIT',
      original: {src: '10.64.4.48', dst: '10.0.0.10', sport: 41993, dport: 53},
      reply: {src: '10.64.1.6', dst: '10.64.4.48', sport: 53, dport: 41993},
      flags: ['ASSURED'],
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
