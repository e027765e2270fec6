// What the client is asked to send: source ports chosen up front (so the journal lists every
// flow before it exists) and, for a DNS frontend, a real query per attempt.

import type {ClientAttemptRequest} from '../write/probe-client.js'
import {DEFAULT_DNS_QUESTION, type DnsQuestion, dnsQuery} from './dns.js'
import type {ProbeTarget} from './types.js'

/**
 * Source ports come from 20000-29999: below Linux's default ephemeral range (32768-60999), so
 * no socket the kernel numbers itself collides with ours, and below the NodePort range
 * (30000-32767). A port something else holds is skipped by the client for the spare beside it.
 */
export const SOURCE_PORT_RANGE = {first: 20000, last: 29999}
export const SPARES_PER_ATTEMPT = 1
export const MAX_ATTEMPTS = 1000

/** n distinct ports from the range, in random order. */
export function pickSourcePorts(n: number, random: () => number = Math.random): number[] {
  const size = SOURCE_PORT_RANGE.last - SOURCE_PORT_RANGE.first + 1
  if (n > size) throw new RangeError(`cannot pick ${n} distinct source ports from ${size}`)
  const chosen = new Set<number>()
  while (chosen.size < n) chosen.add(SOURCE_PORT_RANGE.first + Math.floor(random() * size))
  return [...chosen]
}

/** A udp payload: a DNS query to port 53 (its id kept to check the answer), else a short line. */
export function udpPayload(target: ProbeTarget, question: DnsQuestion | undefined, id: number): {payload: Buffer; dnsId: number | null} {
  if (target.port === 53) return {payload: dnsQuery(question ?? DEFAULT_DNS_QUESTION, id), dnsId: id}
  return {payload: Buffer.from('nodedoc probe\n'), dnsId: null}
}

export interface PlannedAttempt {
  request: ClientAttemptRequest
  dnsId: number | null
}

/** count attempts to one frontend, each with its own source port and a spare. */
export function planAttempts(target: ProbeTarget, count: number, question?: DnsQuestion, random: () => number = Math.random): PlannedAttempt[] {
  const ports = pickSourcePorts(count * (1 + SPARES_PER_ATTEMPT), random)
  return Array.from({length: count}, (_, i) => {
    const own = ports.slice(i * (1 + SPARES_PER_ATTEMPT), (i + 1) * (1 + SPARES_PER_ATTEMPT))
    const request: ClientAttemptRequest = {ip: target.ip, port: target.port, protocol: target.protocol, ports: own}
    if (target.protocol !== 'udp') return {request, dnsId: null}
    const {payload, dnsId} = udpPayload(target, question, Math.floor(random() * 65536))
    return {request: {...request, payload: payload.toString('base64')}, dnsId}
  })
}
