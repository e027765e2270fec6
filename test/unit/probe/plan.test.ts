import {describe, expect, it} from 'vitest'
import {SOURCE_PORT_RANGE, pickSourcePorts, planAttempts} from '../../../src/probe/plan.js'
import {readDnsAnswer} from '../../../src/probe/dns.js'

function seeded(seed: number): () => number {
  return () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648
}

describe('probe plan', () => {
  it('picks distinct source ports below the ephemeral and NodePort ranges', () => {
    const ports = pickSourcePorts(2000, seeded(7))
    expect(new Set(ports).size).toBe(2000)
    for (const p of ports) {
      expect(p).toBeGreaterThanOrEqual(SOURCE_PORT_RANGE.first)
      expect(p).toBeLessThanOrEqual(SOURCE_PORT_RANGE.last)
    }
    expect(() => pickSourcePorts(20_000)).toThrow(RangeError)
  })

  it('gives each attempt its own port and a spare, none shared', () => {
    const attempts = planAttempts({ip: '10.96.0.10', port: 80, protocol: 'tcp'}, 50, undefined, seeded(3))
    expect(attempts).toHaveLength(50)
    const all = attempts.flatMap((a) => a.request.ports)
    expect(new Set(all).size).toBe(100)
    expect(attempts[0].request).toMatchObject({ip: '10.96.0.10', port: 80, protocol: 'tcp'})
    expect(attempts[0].request.payload).toBeUndefined()
  })

  it('sends a real DNS query to udp port 53, with its own id', () => {
    const [a] = planAttempts({ip: '10.96.0.10', port: 53, protocol: 'udp'}, 1, {name: 'kube-dns.kube-system.svc.cluster.local', type: 'A'}, seeded(1))
    const query = Buffer.from(a.request.payload!, 'base64')
    expect(query.readUInt16BE(0)).toBe(a.dnsId)
    // a query read back: no answers yet, the id is ours
    expect(readDnsAnswer(query, a.dnsId!)).toEqual({rcode: 'NOERROR', idMatches: true, answers: []})
    expect(query.includes(Buffer.from('\x08kube-dns\x0bkube-system\x03svc\x07cluster\x05local\x00', 'latin1'))).toBe(true)
  })

  it('sends a plain line to other udp ports', () => {
    const [a] = planAttempts({ip: '10.96.0.11', port: 5000, protocol: 'udp'}, 1)
    expect(Buffer.from(a.request.payload!, 'base64').toString()).toBe('nodedoc probe\n')
    expect(a.dnsId).toBeNull()
  })
})
