import type {Host} from '../../host/host.js'
import {parseProcStatus} from '../../parse/proc.js'
import {type Check, listOf, pass, skip, warn} from '../check.js'
import {scanProcesses} from '../facts/processes.js'

export interface PrivilegedFacts {
  /** capability bits a fully privileged process holds here: PID 1's bounding set */
  fullMask: string | null
  processes: Array<{pid: number; comm: string; capEff: string; podUid: string; containerId: string | null}>
}

/** True when `capEff` holds every bit of `full` (hex masks as in /proc/<pid>/status). */
export function holdsAll(capEff: string, full: string): boolean {
  const mask = BigInt(`0x${full}`)
  return mask !== 0n && (BigInt(`0x${capEff}`) & mask) === mask
}

export const privileged: Check<PrivilegedFacts> = {
  id: 'privileged',
  area: 'pods',
  title: 'no pod process with the full capability set',
  why: 'a container holding every capability (privileged: true) can load modules, mount the host disk and leave its namespaces: it is root on the node',
  async gather(host: Host) {
    const status = await host.readFile('/proc/1/status')
    const fullMask = (status ? parseProcStatus(status)?.capBnd : null) ?? null
    const procs = await scanProcesses(host)
    return {
      fullMask,
      processes: procs.filter((p) => p.podUid && p.capEff && p.state !== 'Z').map((p) => ({pid: p.pid, comm: p.comm, capEff: p.capEff!, podUid: p.podUid!, containerId: p.containerId})),
    }
  },
  evaluate({fullMask, processes}) {
    if (!fullMask) return skip("cannot read PID 1's capability bounding set")
    const full = processes.filter((p) => holdsAll(p.capEff, fullMask))
    const inPods = new Set(processes.map((p) => p.podUid)).size
    if (full.length === 0) return pass(`${processes.length} pod processes in ${inPods} pods, none with all capabilities (${fullMask})`)
    // one line per container: its first (lowest PID) process
    const byContainer = new Map<string, (typeof full)[number]>()
    for (const p of full) if (!byContainer.has(`${p.podUid}/${p.containerId}`)) byContainer.set(`${p.podUid}/${p.containerId}`, p)
    const containers = [...byContainer.values()]
    return warn(`${containers.length} container${containers.length > 1 ? 's' : ''} with every capability: ${listOf(containers.map((p) => `pod ${p.podUid} container ${(p.containerId ?? '?').slice(0, 12)} (${p.comm}, PID ${p.pid})`))}`,
      'unless it is a trusted node agent (CNI, CSI, kube-proxy), drop privileged: true and add only the capabilities it needs (securityContext.capabilities.add)', full)
  },
}
