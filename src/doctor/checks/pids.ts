import type {Host} from '../../host/host.js'
import {type Check, byFill, percent, skip} from '../check.js'

export interface PidsFacts {
  /** threads on the node: the second number of /proc/loadavg's "running/total" */
  threads: number | undefined
  pidMax: number | undefined
}

export const pids: Check<PidsFacts> = {
  id: 'pids',
  area: 'pressure',
  title: 'PIDs in use vs pid_max',
  why: 'when PIDs run out no process can fork: pods fail to start and the kubelet itself cannot exec probes',
  async gather(host: Host) {
    const loadavg = await host.readFile('/proc/loadavg')
    const pidMax = await host.readFile('/proc/sys/kernel/pid_max')
    const total = loadavg?.trim().split(/\s+/)[3]?.split('/')[1]
    return {threads: total ? Number(total) : undefined, pidMax: pidMax ? Number(pidMax.trim()) : undefined}
  },
  evaluate({threads, pidMax}) {
    if (threads === undefined || pidMax === undefined) return skip('/proc/loadavg or /proc/sys/kernel/pid_max not readable')
    const used = percent(threads, pidMax)
    const seen = `${threads} of ${pidMax} PIDs (${used}%)`
    const fix = 'find the pod forking without end (nodedoc ps), set podPidsLimit in the kubelet config; raise kernel.pid_max if the load is real'
    return byFill(used, seen, fix)
  },
}
