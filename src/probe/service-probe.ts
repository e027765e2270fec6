// `svc NAME --probe`: every frontend of one service port probed in turn, then tallied against
// the trace `svc` made of the same rules.

import type {Host} from '../host/host.js'
import type {ServiceTrace} from '../svc/types.js'
import {probeService} from './probe.js'
import {tallyProbe} from './tally.js'
import type {FrontendProbe, ProbeOptions, ProbeProtocol, ProbeTarget, ServiceProbeReport} from './types.js'

/** The frontends a probe can address: each ClusterIP, external and LoadBalancer IP once. NodePorts have no address of their own. */
export function probeTargets(service: ServiceTrace): {targets: ProbeTarget[]; skipped: string[]} {
  const targets: ProbeTarget[] = []
  const skipped: string[] = []
  const seen = new Set<string>()
  for (const f of service.frontends) {
    if (f.ip === null) {
      skipped.push(`nodePort ${f.port}: no address of its own (probe a node address with trace --to)`)
      continue
    }
    const id = `${f.ip}|${f.port}`
    if (seen.has(id)) continue
    seen.add(id)
    targets.push({ip: f.ip, port: f.port, protocol: service.protocol as ProbeProtocol})
  }
  return {targets, skipped}
}

export async function probeServicePort(host: Host, service: ServiceTrace, options: ProbeOptions & {count: number}): Promise<{report: ServiceProbeReport; notes: string[]}> {
  const {targets, skipped} = probeTargets(service)
  const frontends: FrontendProbe[] = []
  const cleanup: string[] = []
  const notes: string[] = []
  for (const target of targets) {
    const run = await probeService(host, target, options)
    frontends.push(run.probe)
    cleanup.push(...run.cleanup)
    notes.push(...run.notes)
  }
  return {report: tallyProbe(service, frontends, options.from ?? {kind: 'node'}, options.count, skipped, cleanup), notes}
}
