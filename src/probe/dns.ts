// The DNS query a probe sends to a port-53 frontend, and what the answer said. dns-packet
// (mafintosh's, the encoder/decoder most of npm's DNS code uses) does the wire format: name
// compression and the record types an answer may carry are easy to get subtly wrong by hand.

import dnsPacket from 'dns-packet'

export interface DnsQuestion {
  name: string
  /** A, AAAA, SRV, ... (default A) */
  type?: string
}

export interface DnsAnswer {
  /** NOERROR, NXDOMAIN, SERVFAIL, REFUSED, ... */
  rcode: string
  /** the query id matched ours */
  idMatches: boolean
  answers: Array<{name: string; type: string; ttl: number | null; data: string}>
}

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE']

/** The name a probe asks for when the caller names none: a name every cluster DNS answers for (or refuses, which is an answer too). */
export const DEFAULT_DNS_QUESTION: DnsQuestion = {name: 'kubernetes.default.svc.cluster.local', type: 'A'}

/** One recursive query, with the given id. */
export function dnsQuery(question: DnsQuestion, id: number): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{name: question.name, type: (question.type ?? 'A') as dnsPacket.RecordType, class: 'IN'}],
  })
}

function dataText(data: unknown): string {
  if (typeof data === 'string') return data
  if (Buffer.isBuffer(data)) return data.toString('hex')
  if (Array.isArray(data)) return data.map(dataText).join(' ')
  return JSON.stringify(data)
}

/** What a reply datagram says; null when it is not a DNS message. */
export function readDnsAnswer(reply: Buffer, id: number): DnsAnswer | null {
  try {
    const packet = dnsPacket.decode(reply)
    return {
      rcode: RCODES[(packet.flags ?? 0) & 0xf] ?? String((packet.flags ?? 0) & 0xf),
      idMatches: packet.id === id,
      answers: (packet.answers ?? []).map((a) => ({name: a.name, type: a.type, ttl: 'ttl' in a && typeof a.ttl === 'number' ? a.ttl : null, data: dataText((a as {data?: unknown}).data)})),
    }
  } catch {
    return null
  }
}
