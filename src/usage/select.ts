// What a command's flags keep and in which order: -n, a pod name, --sort-by.
import type {ContainerUsage, PodUsage, PodUsageReport, Usage, UsageEvent} from './types.js'

export const SORT_KEYS = ['cpu', 'memory', 'throttled', 'pids'] as const
export type SortKey = (typeof SORT_KEYS)[number]

/** Throttled share of CFS periods: over the interval, or since the cgroup was made when there is one sample. */
export function throttledShare(u: Usage): number | null {
  const {periods, throttledPeriods, totalPeriods, totalThrottledPeriods} = u.throttling
  if (periods !== null && throttledPeriods !== null) return periods ? throttledPeriods / periods : 0
  return totalPeriods && totalThrottledPeriods !== null ? totalThrottledPeriods / totalPeriods : null
}

/**
 * The most throttled of a pod cgroup (its pod-level quota) and its containers (their own):
 * throttling is not hierarchical, so a pod's row shows whichever is worst.
 */
export function worstThrottled(pod: PodUsage): Usage {
  let worst: Usage = pod
  for (const c of pod.containers) if ((throttledShare(c) ?? -1) > (throttledShare(worst) ?? -1)) worst = c
  return worst
}

const METRIC: Record<SortKey, (u: Usage) => number | null> = {
  cpu: (u) => u.cpu.cores,
  memory: (u) => u.memory.workingSetBytes,
  throttled: (u) => throttledShare('containers' in u ? worstThrottled(u as PodUsage) : u),
  pids: (u) => u.pids.current,
}

const byName = (a: {namespace: string | null; name: string | null}, b: {namespace: string | null; name: string | null}) =>
  `${a.namespace}/${a.name}` < `${b.namespace}/${b.name}` ? -1 : `${a.namespace}/${a.name}` > `${b.namespace}/${b.name}` ? 1 : 0

/** Highest first; unknown values last; ties by name. */
function sortBy<T extends Usage>(items: T[], key: SortKey | undefined, tie: (a: T, b: T) => number): T[] {
  const metric = key ? METRIC[key] : undefined
  return [...items].sort((a, b) => {
    if (metric) {
      const x = metric(a)
      const y = metric(b)
      if (x !== y) return x === null ? 1 : y === null ? -1 : y - x
    }
    return tie(a, b)
  })
}

/** The report's pods in -n, ordered by --sort-by (by name without it); their containers likewise. */
export function selectPods(report: PodUsageReport, namespace: string | undefined, key: SortKey | undefined): PodUsageReport {
  const pods = report.items
    .filter((p) => namespace === undefined || p.namespace === namespace)
    .map((p) => ({...p, containers: sortBy(p.containers, key, (a, b) => ((a.name ?? a.id) < (b.name ?? b.id) ? -1 : 1))}))
  return {...report, items: sortBy(pods, key, byName)}
}

/** `top containers`: one row per container, ordered across pods. */
export function containerRows(report: Pick<PodUsageReport, 'items'>, key: SortKey | undefined): Array<{pod: PodUsage; container: ContainerUsage}> {
  const rows = report.items.flatMap((pod) => pod.containers.map((container) => ({pod, container, ...container})))
  return sortBy(rows, key, (a, b) => byName(a.pod, b.pod) || ((a.container.name ?? '') < (b.container.name ?? '') ? -1 : 1)).map(({pod, container}) => ({pod, container}))
}

/** `events [POD] -n NS`. */
export function selectEvents(events: UsageEvent[], namespace: string | undefined, pod: string | undefined): UsageEvent[] {
  return events.filter((e) => (namespace === undefined || e.pod.namespace === namespace) && (pod === undefined || e.pod.name === pod || e.pod.uid === pod))
}
