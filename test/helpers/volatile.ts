import type {PodReport} from '../../src/pods/types.js'

/**
 * A pod report without the counters that move between two reads of the same pod (memory in
 * use and its peak, CPU throttling, pids in use). Two reads of an unchanged pod must agree on
 * everything else.
 */
export function withoutCounters(report: PodReport): PodReport {
  const copy = structuredClone(report)
  for (const c of [copy.cgroup, ...copy.containers.map((x) => x.cgroup)]) {
    if (!c) continue
    c.memoryUsageBytes = c.memoryPeakBytes = c.throttledPeriods = c.throttledUs = c.pidsCurrent = null
  }
  return copy
}
