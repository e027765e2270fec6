// What the kubelet would do with a Pod, as pure functions: QoS class, cgroup names for both
// drivers, cgroup limits by the kubelet's formulas (v1 files and their v2 equivalents) and
// oom_score_adj. Formulas: pkg/kubelet/cm (helpers_linux.go, qos) and pkg/kubelet/qos.

import type {QosClass} from '../pods/types.js'
import type {ContainerSpec, PodManifest, ResourceAmounts} from './manifest.js'

/** The two cgroup drivers the kubelet knows. */
export type CgroupDriverName = 'cgroupfs' | 'systemd'

export const MIN_SHARES = 2
export const MAX_SHARES = 262_144
export const CFS_PERIOD_US = 100_000
export const MIN_QUOTA_US = 1000
export const GUARANTEED_OOM_SCORE_ADJ = -997
export const BESTEFFORT_OOM_SCORE_ADJ = 1000
/** The kubelet's own processes and the pause container. */
export const PAUSE_OOM_SCORE_ADJ = -998

/** Guaranteed: every container limits == requests for cpu and memory; BestEffort: nothing set. */
export function qosClass(pod: Pick<PodManifest, 'containers'>): QosClass {
  const all = pod.containers.flatMap((c) => [c.resources.requests, c.resources.limits])
  if (all.every((r) => r.cpuMilli === null && r.memoryBytes === null)) return 'BestEffort'
  const guaranteed = pod.containers.every(({resources: {requests, limits}}) =>
    limits.cpuMilli !== null && limits.memoryBytes !== null &&
    requests.cpuMilli === limits.cpuMilli && requests.memoryBytes === limits.memoryBytes)
  return guaranteed ? 'Guaranteed' : 'Burstable'
}

/** cpu.shares for a CPU request in millicores. */
export function milliCpuToShares(milliCpu: number | null): number {
  if (!milliCpu) return MIN_SHARES
  const shares = Math.floor((milliCpu * 1024) / 1000)
  return Math.min(MAX_SHARES, Math.max(MIN_SHARES, shares))
}

/** cpu.cfs_quota_us for a CPU limit; null = no limit (-1 in the file). */
export function milliCpuToQuota(milliCpu: number | null, periodUs = CFS_PERIOD_US): number | null {
  if (!milliCpu) return null
  return Math.max(MIN_QUOTA_US, Math.floor((milliCpu * periodUs) / 1000))
}

/** cgroup v2 cpu.weight from v1 shares, classic runc's linear mapping. */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0
  return 1 + Math.floor(((shares - 2) * 9999) / 262_142)
}

export interface CgroupLimits {
  cpuShares: number
  cpuQuotaUs: number | null
  cpuPeriodUs: number
  memoryLimitBytes: number | null
  pidsMax: number | null
}

/** The cgroup v1 files and values the limits become. */
export function cgroupV1Files(l: CgroupLimits): Array<{controller: string; file: string; value: string}> {
  return [
    {controller: 'cpu', file: 'cpu.shares', value: String(l.cpuShares)},
    {controller: 'cpu', file: 'cpu.cfs_period_us', value: String(l.cpuPeriodUs)},
    {controller: 'cpu', file: 'cpu.cfs_quota_us', value: String(l.cpuQuotaUs ?? -1)},
    ...(l.memoryLimitBytes !== null ? [{controller: 'memory', file: 'memory.limit_in_bytes', value: String(l.memoryLimitBytes)}] : []),
    ...(l.pidsMax !== null ? [{controller: 'pids', file: 'pids.max', value: String(l.pidsMax)}] : []),
  ]
}

/** The same limits as cgroup v2 files (one unified tree, controller "" ). */
export function cgroupV2Files(l: CgroupLimits): Array<{controller: string; file: string; value: string}> {
  return [
    {controller: '', file: 'cpu.weight', value: String(sharesToWeight(l.cpuShares))},
    {controller: '', file: 'cpu.max', value: `${l.cpuQuotaUs ?? 'max'} ${l.cpuPeriodUs}`},
    {controller: '', file: 'memory.max', value: l.memoryLimitBytes === null ? 'max' : String(l.memoryLimitBytes)},
    ...(l.pidsMax !== null ? [{controller: '', file: 'pids.max', value: String(l.pidsMax)}] : []),
  ]
}

export function containerLimits(c: Pick<ContainerSpec, 'resources'>): CgroupLimits {
  return {
    cpuShares: milliCpuToShares(c.resources.requests.cpuMilli),
    cpuQuotaUs: milliCpuToQuota(c.resources.limits.cpuMilli),
    cpuPeriodUs: CFS_PERIOD_US,
    memoryLimitBytes: c.resources.limits.memoryBytes,
    pidsMax: null,
  }
}

/**
 * The pod-level cgroup (ResourceConfigForPod): shares from the summed requests, a quota and a
 * memory limit only when every container has one. BestEffort pods get the minimum shares.
 */
export function podLimits(pod: Pick<PodManifest, 'containers'>, podPidsLimit: number | null = null): CgroupLimits {
  const sum = (pick: (r: ResourceAmounts) => number | null, from: 'requests' | 'limits'): number | null => {
    let total = 0
    for (const c of pod.containers) {
      const v = pick(c.resources[from])
      if (v === null) return null
      total += v
    }
    return total
  }
  const requestMilli = pod.containers.reduce((t, c) => t + (c.resources.requests.cpuMilli ?? 0), 0)
  const qos = qosClass(pod)
  return {
    cpuShares: qos === 'BestEffort' ? MIN_SHARES : milliCpuToShares(requestMilli),
    cpuQuotaUs: milliCpuToQuota(sum((r) => r.cpuMilli, 'limits')),
    cpuPeriodUs: CFS_PERIOD_US,
    memoryLimitBytes: sum((r) => r.memoryBytes, 'limits'),
    pidsMax: podPidsLimit,
  }
}

/** oom_score_adj for a container of a pod of this class (pkg/kubelet/qos/policy.go). */
export function oomScoreAdj(qos: QosClass, memoryRequestBytes: number | null, nodeMemoryCapacityBytes: number): number {
  if (qos === 'Guaranteed') return GUARANTEED_OOM_SCORE_ADJ
  if (qos === 'BestEffort') return BESTEFFORT_OOM_SCORE_ADJ
  const request = memoryRequestBytes ?? 0
  let adj = 1000 - Math.floor((1000 * request) / nodeMemoryCapacityBytes)
  // keep burstable strictly between guaranteed and best-effort
  if (adj < 1000 + GUARANTEED_OOM_SCORE_ADJ) adj = 1000 + GUARANTEED_OOM_SCORE_ADJ
  if (adj === BESTEFFORT_OOM_SCORE_ADJ) adj = BESTEFFORT_OOM_SCORE_ADJ - 1
  return adj
}

const QOS_DIR: Record<QosClass, string | null> = {Guaranteed: null, Burstable: 'burstable', BestEffort: 'besteffort'}

/** The pod's cgroup, relative to a hierarchy root, for the given driver. */
export function podCgroupPath(driver: CgroupDriverName, qos: QosClass, podUid: string): string {
  const qosDir = QOS_DIR[qos]
  if (driver === 'cgroupfs') return qosDir ? `/kubepods/${qosDir}/pod${podUid}` : `/kubepods/pod${podUid}`
  // systemd: every level is a slice whose name repeats its parents', '-' in the UID becomes '_'
  const escaped = podUid.replace(/-/g, '_')
  if (!qosDir) return `/kubepods.slice/kubepods-pod${escaped}.slice`
  return `/kubepods.slice/kubepods-${qosDir}.slice/kubepods-${qosDir}-pod${escaped}.slice`
}

/** The QoS-level parents of a pod cgroup, outermost first ("/kubepods", "/kubepods/burstable"). */
export function qosCgroupParents(driver: CgroupDriverName, qos: QosClass): string[] {
  const qosDir = QOS_DIR[qos]
  if (driver === 'cgroupfs') return qosDir ? ['/kubepods', `/kubepods/${qosDir}`] : ['/kubepods']
  return qosDir ? ['/kubepods.slice', `/kubepods.slice/kubepods-${qosDir}.slice`] : ['/kubepods.slice']
}

/** A container's cgroup: `<pod>/<id>` (cgroupfs) or `<pod>/cri-containerd-<id>.scope` (systemd). */
export function containerCgroupPath(driver: CgroupDriverName, podPath: string, containerId: string): string {
  return driver === 'cgroupfs' ? `${podPath}/${containerId}` : `${podPath}/cri-containerd-${containerId}.scope`
}
