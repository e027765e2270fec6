import {describe, expect, it} from 'vitest'
import {dnsQuery, readDnsAnswer} from '../../../src/probe/dns.js'

describe('DNS probe messages', () => {
  it('builds a recursive query for one name', () => {
    const q = dnsQuery({name: 'example.com', type: 'AAAA'}, 0x1234)
    expect(q.subarray(0, 12).toString('hex')).toBe('123401000001000000000000')
    expect(q.subarray(12).toString('hex')).toBe('076578616d706c6503636f6d00001c0001')
  })

  it('reads an answer: rcode, the id, the records (name compression included)', () => {
    // a response as a server writes it: the query's question, then an A record whose name points back to it
    const question = Buffer.from('076578616d706c6503636f6d0000010001', 'hex')
    const answer = Buffer.from('c00c000100010000003c00040a600001', 'hex')
    const reply = Buffer.concat([Buffer.from('beef81800001000100000000', 'hex'), question, answer])
    expect(readDnsAnswer(reply, 0xbeef)).toEqual({rcode: 'NOERROR', idMatches: true, answers: [{name: 'example.com', type: 'A', ttl: 60, data: '10.96.0.1'}]})
    const nx = Buffer.concat([Buffer.from('beef81830001000000000000', 'hex'), question])
    expect(readDnsAnswer(nx, 0xbeee)).toMatchObject({rcode: 'NXDOMAIN', idMatches: false, answers: []})
  })

  it('says null for what is not DNS', () => {
    expect(readDnsAnswer(Buffer.from('nodedoc probe\n'), 1)).toBeNull()
  })
})
