import type {PodReport} from '../../src/pods/types.js'

/**
 * A pod report without the counters that move between two reads of the same pod (memory in
 * use and its peak, CPU throttling, pids in use). Two reads of an unchanged pod must agree on
 * everything else.
 */
export function withoutCounters(report: PodReport): PodReport {
  const copy = withoutProvenance(report)
  for (const c of [copy.cgroup, ...copy.containers.map((x) => x.cgroup)]) {
    if (!c) continue
    c.memoryUsageBytes = c.memoryPeakBytes = c.throttledPeriods = c.throttledUs = c.pidsCurrent = null
  }
  return copy
}

/**
 * A nodedoc document without when it was read (capturedAt: now, or a snapshot's time) and the
 * node's name as each source gives it: two answers about the same facts must agree on the rest.
 */
export function withoutProvenance<T>(document: T): T {
  const copy = structuredClone(document) as T & {capturedAt?: unknown; node?: unknown}
  delete copy.capturedAt
  delete copy.node
  return copy
}

/** The records of a nodedoc list document ({apiVersion, kind, items}). */
export function itemsOf<T = any>(document: unknown): T[] {
  const items = (document as {items?: T[]}).items
  if (!Array.isArray(items)) throw new Error(`not a nodedoc list document: ${JSON.stringify(document).slice(0, 120)}`)
  return items
}
