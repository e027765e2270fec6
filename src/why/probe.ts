// `--probe`: a real query or connection from inside the sender's network namespace, compared with
// the traced path. The probe itself (svc --probe) writes to the node and lives in its own module;
// a link here only judges what it observed, so `why` stays read-only without --probe.

import type {PathContext} from './path-links.js'
import {type Link, broken, notReached, ok} from './types.js'

/** What one real query/connection observed. */
export interface ProbeObservation {
  answered: boolean
  /** The endpoint address that answered, when the probe could tell. */
  endpoint: string | null
  /** What was sent and what came back, one line. */
  detail: string
}

/** Sends one query/connection to ip:port from the network namespace of `netnsPid` (null: the node). */
export type Prober = (target: {netnsPid: number | null; ip: string; port: number; protocol: 'udp' | 'tcp'}) => Promise<ProbeObservation>

/** Judges a probe's observation against the traced endpoints. */
export function judgeProbe(observed: ProbeObservation, traced: string[]): ReturnType<typeof ok> {
  if (!observed.answered) return broken(`a real ${observed.detail} got no answer, though the traced path holds`, 'something the trace cannot see drops it (a NetworkPolicy, a firewall rule outside kube-proxy\'s chains, the server itself): capture with tcpdump on the pod\'s veth', [observed.detail])
  if (observed.endpoint && traced.length && !traced.includes(observed.endpoint)) {
    return broken(`the answer came from ${observed.endpoint}, which is not a traced endpoint (${traced.join(', ')})`, 'a stale conntrack entry or rules changed since they were read: run again', [observed.detail])
  }
  return ok(`answered${observed.endpoint ? ` by ${observed.endpoint}, a traced endpoint` : ''}`, [observed.detail])
}

export function probeLink<C extends PathContext>(prober: Prober): Link<C> {
  return {
    name: 'probe',
    async check({source, frontend, targets, protocol}) {
      if (!frontend) return notReached('no address to probe')
      const observed = await prober({netnsPid: source && !source.hostNetwork ? source.sandbox.pid : null, ip: frontend.ip, port: frontend.port, protocol})
      return judgeProbe(observed, (targets ?? []).map((t) => t.ip))
    },
  }
}
