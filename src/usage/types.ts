// What `top` and `events` report, and the samples they are computed from. Field names are the
// stable JSON schema (docs/top-events.md): add fields freely, never rename or remove one.

import type {CgroupCounters} from '../pods/cgroup-reader.js'
import type {CgroupDriver, QosClass} from '../pods/types.js'

/** One container cgroup at one moment. */
export interface ContainerSample {
  id: string
  name: string | null
  /** the pause container: counted in the pod's numbers, not shown as a container */
  sandbox: boolean
  cgroupPath: string
  counters: CgroupCounters
}

/** One pod cgroup and its containers at one moment. */
export interface PodSample {
  uid: string
  namespace: string | null
  name: string | null
  qosClass: QosClass | null
  cgroupDriver: CgroupDriver | null
  cgroupPath: string
  counters: CgroupCounters
  containers: ContainerSample[]
}

/** Every pod cgroup's counters at one moment: what a rate is computed from, two at a time. */
export interface UsageSample {
  /** wall clock when the sample was taken */
  time: string
  /** a monotonic clock (ms) for the interval between two samples */
  monotonicMs: number
  cgroupVersion: 1 | 2 | null
  pods: PodSample[]
}

/** The numbers of one cgroup over an interval (rates) and at its end (gauges, totals). */
export interface Usage {
  cpu: {
    /** cores used over the interval: CPU time used / wall time; null with one sample */
    cores: number | null
    /** quota / period; null: no CPU limit */
    limitCores: number | null
    percentOfLimit: number | null
    /** CPU time used since the cgroup was made */
    totalSeconds: number | null
  }
  memory: {
    /** the kubelet's working set: usage minus inactive file pages (never below 0) */
    workingSetBytes: number | null
    rssBytes: number | null
    usageBytes: number | null
    inactiveFileBytes: number | null
    limitBytes: number | null
    /** working set / limit, as the kubelet's eviction and kubectl top see it */
    percentOfLimit: number | null
  }
  throttling: {
    /** CFS periods that ran in the interval, and those in which the quota ran out */
    periods: number | null
    throttledPeriods: number | null
    throttledSeconds: number | null
    /** since the cgroup was made */
    totalThrottledPeriods: number | null
    totalPeriods: number | null
  }
  pids: {current: number | null; max: number | null; maxEvents: number | null}
  /** OOM kills since the cgroup was made */
  oomKills: number | null
}

export interface ContainerUsage extends Usage {
  name: string | null
  id: string
  cgroupPath: string
}

export interface PodUsage extends Usage {
  namespace: string | null
  name: string | null
  uid: string
  qosClass: QosClass | null
  cgroupPath: string
  containers: ContainerUsage[]
}

/**
 * One `top` sample: printed per interval, as a `PodUsage` document (docs/schema/PodUsage.schema.json)
 * whose capturedAt is `time`.
 */
export interface PodUsageReport {
  /** when the later of the two samples was taken */
  time: string
  /** seconds between the two samples the rates come from; null when there was one */
  intervalSeconds: number | null
  cgroupVersion: 1 | 2 | null
  /** one per pod cgroup */
  items: PodUsage[]
  /** why some numbers are missing (one sample only, no cgroup found) */
  notes: string[]
}

export type EventReason = 'OOMKill' | 'Restart' | 'CPUThrottling' | 'PidsLimit' | 'ContainerExit' | 'SandboxExit'

/** One kernel-level event tied to a pod: an item of an `EventList` document. */
export interface UsageEvent {
  reason: EventReason
  /** when it happened, as exactly as the evidence says; null when only a count since the cgroup was made is known */
  time: string | null
  pod: {namespace: string | null; name: string | null; uid: string}
  container: {name: string | null; id: string | null} | null
  message: string
  /** what shows it: counter values with their files, kernel log lines, log files */
  evidence: string[]
}
