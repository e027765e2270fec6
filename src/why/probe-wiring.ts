import type {Host} from '../host/host.js'
import {interruptible, probeService} from '../probe/probe.js'
import type {ProbeAttempt} from '../probe/types.js'
import type {ProbeObservation, Prober} from './probe.js'

/** What one attempt says, in one line: what was sent, what came back, where conntrack says it went. */
function detailOf(sent: string, a: ProbeAttempt | undefined): string {
  if (!a) return `${sent}: nothing was sent`
  const where = a.endpoint ? `, conntrack: reply from ${a.endpoint.ip}${a.endpoint.port !== null ? `:${a.endpoint.port}` : ''}` : ', no conntrack entry'
  const dns = a.dns ? `, DNS ${a.dns.rcode}${a.dns.answers.length ? ` ${a.dns.answers.map((x) => x.data).join(' ')}` : ''}` : ''
  return `${sent}: ${a.result}${a.error ? ` (${a.error})` : ''} in ${a.ms} ms${dns}${where}`
}

/**
 * The prober `why --probe` uses: one real attempt through `svc --probe`'s machinery (the client
 * entered into the sender's network namespace, its conntrack entry read by source port, then
 * everything it added removed again, on Ctrl-C too). A DNS frontend (udp 53) gets a real query.
 */
export function proberFor(host: Host): Prober {
  return async ({netnsPid, ip, port, protocol}) => {
    const from = netnsPid === null ? {kind: 'node' as const} : {kind: 'pod' as const, namespace: null, name: null, uid: '', pid: netnsPid, ip: null}
    const run = await interruptible((signal) => probeService(host, {ip, port, protocol}, {from, count: 1, timeoutMs: 2000, signal}))
    const attempt = run.probe.attempts[0]
    const sent = `${protocol === 'udp' && port === 53 ? 'DNS query' : protocol === 'udp' ? 'datagram' : 'connection'} to ${ip}:${port}/${protocol} from ${netnsPid === null ? 'the node' : `the netns of PID ${netnsPid}`}`
    const observation: ProbeObservation = {
      answered: attempt?.result === 'answered' && (attempt.dns === undefined || (attempt.dns !== null && attempt.dns.rcode === 'NOERROR')),
      endpoint: attempt?.endpoint?.ip ?? null,
      detail: detailOf(sent, attempt),
    }
    return observation
  }
}
