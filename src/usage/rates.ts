// Two samples in, the numbers `top` shows out. Pure: no clock, no files.
import type {CgroupCounters} from '../pods/cgroup-reader.js'
import {type ContainerUsage, type PodSample, type PodUsage, type PodUsageReport, type Usage, type UsageSample} from './types.js'

/** The kubelet's (cAdvisor's) working set: usage minus inactive file pages, never below zero. */
export function workingSetBytes(usageBytes: number | null, inactiveFileBytes: number | null): number | null {
  if (usageBytes === null) return null
  if (inactiveFileBytes === null) return usageBytes
  return usageBytes < inactiveFileBytes ? 0 : usageBytes - inactiveFileBytes
}

/** A counter's rise; null when either end is unknown, or when it fell (a cgroup made anew under the same name). */
export function counterDelta(before: number | null | undefined, after: number | null): number | null {
  if (before === null || before === undefined || after === null || after < before) return null
  return after - before
}

function percent(part: number | null, whole: number | null): number | null {
  return part === null || whole === null || whole === 0 ? null : (part / whole) * 100
}

/** One cgroup's numbers over the interval ending at `now`; `before` absent: one sample, no rates. */
export function usageOf(before: CgroupCounters | undefined, now: CgroupCounters, seconds: number | null): Usage {
  const cpuNs = before && seconds ? counterDelta(before.cpuUsageNs, now.cpuUsageNs) : null
  const cores = cpuNs === null || !seconds ? null : cpuNs / 1e9 / seconds
  const limitCores = now.cpuQuotaUs !== null && now.cpuPeriodUs ? now.cpuQuotaUs / now.cpuPeriodUs : null
  const workingSet = workingSetBytes(now.memoryUsageBytes, now.inactiveFileBytes)
  const throttledNs = before ? counterDelta(before.throttledNs, now.throttledNs) : null
  return {
    cpu: {cores, limitCores, percentOfLimit: percent(cores, limitCores), totalSeconds: now.cpuUsageNs === null ? null : now.cpuUsageNs / 1e9},
    memory: {
      workingSetBytes: workingSet,
      rssBytes: now.rssBytes,
      usageBytes: now.memoryUsageBytes,
      inactiveFileBytes: now.inactiveFileBytes,
      limitBytes: now.memoryLimitBytes,
      percentOfLimit: percent(workingSet, now.memoryLimitBytes),
    },
    throttling: {
      periods: before ? counterDelta(before.nrPeriods, now.nrPeriods) : null,
      throttledPeriods: before ? counterDelta(before.nrThrottled, now.nrThrottled) : null,
      throttledSeconds: throttledNs === null ? null : throttledNs / 1e9,
      totalThrottledPeriods: now.nrThrottled,
      totalPeriods: now.nrPeriods,
    },
    pids: {current: now.pidsCurrent, max: now.pidsMax, maxEvents: now.pidsMaxEvents},
    oomKills: now.oomKills,
  }
}

/**
 * A pod's row. CPU, memory and pids are the pod cgroup's own files, which count every
 * container below (and the pause process), as the kubelet's pod stats do; so is throttling,
 * which is not hierarchical: it is the pod-level quota's (each container's own is in its row).
 * v1's memory.oom_control counts kills in that cgroup alone, so a v1 pod's OOM kills are its
 * own plus its containers'; v2's memory.events already counts the children.
 */
function podUsage(before: PodSample | undefined, now: PodSample, seconds: number | null, version: 1 | 2 | null): PodUsage {
  const own = usageOf(before?.counters, now.counters, seconds)
  const all = now.containers.map((c) => ({c, usage: usageOf(before?.containers.find((b) => b.id === c.id)?.counters, c.counters, seconds)}))
  const containers: ContainerUsage[] = all.filter(({c}) => !c.sandbox).map(({c, usage}) => ({name: c.name, id: c.id, cgroupPath: c.cgroupPath, ...usage}))
  const kills = [own.oomKills, ...all.map((a) => a.usage.oomKills)]
  return {
    namespace: now.namespace,
    name: now.name,
    uid: now.uid,
    qosClass: now.qosClass,
    cgroupPath: now.cgroupPath,
    ...own,
    oomKills: version === 2 ? own.oomKills : kills.some((k) => k !== null) ? kills.reduce<number>((a, k) => a + (k ?? 0), 0) : null,
    containers,
  }
}

/** The report for `now`; with `before` (the previous sample) it carries rates over the interval between them. */
export function usageReport(before: UsageSample | undefined, now: UsageSample): PodUsageReport {
  const seconds = before ? (now.monotonicMs - before.monotonicMs) / 1000 : null
  const previous = new Map(before?.pods.map((p) => [p.uid, p]))
  const notes: string[] = []
  if (!before) notes.push('a CPU rate needs two samples; this is one: CPU cores and throttling in the interval are not known')
  if (now.pods.length === 0) notes.push('no pod cgroups under the kubelet\'s roots (kubepods, kubepods.slice, kubelet.slice)')
  return {
    time: now.time,
    intervalSeconds: seconds,
    cgroupVersion: now.cgroupVersion,
    items: now.pods.map((p) => podUsage(previous.get(p.uid), p, seconds, now.cgroupVersion)),
    notes,
  }
}
