// probeService(): real connections (tcp) or datagrams (udp; a DNS query on port 53) to one
// frontend of a Service, from a pod's network namespace or the node's, then the conntrack entry
// of each flow, read by its source port: the reply tuple names the endpoint the kernel really
// chose. Everything it adds (the client process, the conntrack entries) is journaled first and
// removed on success, failure and abort. `nodedoc svc --probe` and `why` call it.

import {NodedocError} from '../errors.js'
import type {Host} from '../host/host.js'
import {withInterrupt} from '../interrupt.js'
import {ProbeClientError, ProbeJournal, clientCommand, listFlows, ownNetns, runProbeClient, sweepStaleJournals} from '../write/probe-ops.js'
import type {ConntrackEntry} from '../parse/conntrack.js'
import {readDnsAnswer} from './dns.js'
import {MAX_ATTEMPTS, planAttempts} from './plan.js'
import type {FrontendProbe, ProbeAttempt, ProbeOptions, ProbeSource, ProbeTarget} from './types.js'

/** Probing cannot happen as asked: one clear line, exit code 1. */
export class ProbeError extends NodedocError {}

/** Ctrl-C (or SIGTERM, SIGHUP...) arrived: what was added is removed again; the exit code names the cause, and the detail lists what was removed. */
export class ProbeAborted extends NodedocError {
  constructor(readonly cleanup: string[], readonly problems: string[], cause = 'SIGINT', exitCode = 130) {
    super(`interrupted (${cause}); removed what was added${problems.length ? `, except: ${problems.join('; ')}` : ''}`, exitCode, cleanup.map((c) => `  removed: ${c}\n`).join(''))
  }
}

/**
 * Runs a probe or a trace under the one interrupt path (src/interrupt.ts, as sandbox does):
 * Ctrl-C, SIGTERM, SIGHUP, closed output or an uncaught error stop it at its next step, it
 * removes what it added, and the exit code names the cause.
 */
export async function interruptible<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  return withInterrupt(async (interrupt) => {
    try {
      return await work(interrupt.signal)
    } catch (error) {
      if (error instanceof ProbeAborted && interrupt.cause) throw new ProbeAborted(error.cleanup, error.problems, interrupt.cause, interrupt.exitCode)
      throw error
    }
  }, {uncaught: true})
}

export interface ProbeRun {
  probe: FrontendProbe
  /** what was added to the node and removed again */
  cleanup: string[]
  /** leftovers of earlier, killed runs that were removed; things that could not be removed */
  notes: string[]
}

// 3 s per attempt: a SYN the server side drops (a full accept queue on a busy node) is sent again after 1 s, and that is slow, not unanswered
const DEFAULTS = {count: 20, timeoutMs: 3000, concurrency: 8}

/** The network namespace the client must find itself in. */
export async function expectedNetns(host: Host, source: ProbeSource): Promise<string> {
  const link = source.kind === 'pod' ? await host.readLink(`/proc/${source.pid}/ns/net`) : await ownNetns()
  if (!link) throw new ProbeError(source.kind === 'pod' ? `pod ${source.namespace}/${source.name}: its sandbox process ${source.pid} is gone (network namespace unreadable)` : 'cannot read this process\'s network namespace')
  return link
}

function attemptFrom(planned: {dnsId: number | null}, r: {sourcePort: number; sourceIp: string | null; result: ProbeAttempt['result']; error: string | null; ms: number; reply?: string}, flow: ConntrackEntry | undefined): ProbeAttempt {
  const attempt: ProbeAttempt = {
    sourcePort: r.sourcePort, sourceIp: r.sourceIp, result: r.result, error: r.error, ms: r.ms,
    endpoint: flow ? {ip: flow.reply.src, port: flow.reply.sport} : null,
    conntrack: flow ? {state: flow.state, replied: !flow.flags.includes('UNREPLIED')} : null,
  }
  if (planned.dnsId !== null) attempt.dns = r.reply ? readDnsAnswer(Buffer.from(r.reply, 'base64'), planned.dnsId) : null
  return attempt
}

/** The flow an attempt made: same protocol, destination and source port (and source address when known). */
function flowOf(flows: ConntrackEntry[], target: ProbeTarget, sourcePort: number, sourceIp: string | null): ConntrackEntry | undefined {
  return flows.find((f) => f.original.sport === sourcePort && f.original.dst === target.ip && f.original.dport === target.port && (sourceIp === null || f.original.src === sourceIp))
}

/**
 * Probes one frontend. The host must be the live node (a snapshot cannot send packets); the
 * source pod's sandbox PID must still own its network namespace.
 */
export async function probeService(host: Host, frontend: ProbeTarget, options: ProbeOptions = {}): Promise<ProbeRun> {
  if (host.root === undefined) throw new ProbeError('probing sends real packets: it needs the live node, not a snapshot')
  if (frontend.protocol !== 'tcp' && frontend.protocol !== 'udp') throw new ProbeError(`cannot probe ${frontend.protocol}: tcp and udp only`)
  const source = options.from ?? {kind: 'node'}
  const count = options.count ?? DEFAULTS.count
  if (!Number.isInteger(count) || count < 1 || count > MAX_ATTEMPTS) throw new ProbeError(`--count must be 1 to ${MAX_ATTEMPTS}`)
  const netns = await expectedNetns(host, source)
  const notes = await sweepStaleJournals()
  const planned = planAttempts(frontend, count, options.dns)
  const journal = await ProbeJournal.open('svc --probe')
  let results: Awaited<ReturnType<typeof runProbeClient>> = []
  let flows: ConntrackEntry[] = []
  let failure: unknown
  try {
    await journal.record({
      kind: 'conntrack', protocol: frontend.protocol, src: source.kind === 'pod' ? source.ip : null, dst: frontend.ip, dport: frontend.port,
      sports: planned.flatMap((p) => p.request.ports),
    })
    const request = {attempts: planned.map((p) => p.request), timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs, concurrency: options.concurrency ?? DEFAULTS.concurrency}
    results = await runProbeClient(clientCommand(source.kind === 'pod' ? source.pid : null, host.root), request, netns, journal, options.signal)
    if (!options.signal?.aborted) {
      const listed = await listFlows(frontend.protocol, frontend.ip, frontend.port)
      if (listed === undefined) notes.push('conntrack is not installed: the endpoint each flow reached is unknown')
      flows = listed ?? []
    }
  } catch (error) {
    failure = error
  }
  const {removed, problems} = await journal.rollback()
  notes.push(...problems.map((p) => `could not remove: ${p}`))
  if (options.signal?.aborted) throw new ProbeAborted(removed, problems)
  if (failure instanceof ProbeClientError) throw new ProbeError(failure.message)
  if (failure) throw failure
  const attempts = results
    .sort((a, b) => a.index - b.index)
    .map((r) => attemptFrom(planned[r.index], r, flowOf(flows, frontend, r.sourcePort, r.sourceIp)))
  const probe: FrontendProbe = {
    target: frontend,
    sent: attempts.length,
    answered: attempts.filter((a) => a.result === 'answered').length,
    refused: attempts.filter((a) => a.result === 'refused').length,
    timedOut: attempts.filter((a) => a.result === 'timedOut').length,
    errors: attempts.filter((a) => a.result === 'error').length,
    attempts,
  }
  return {probe, cleanup: removed, notes}
}
