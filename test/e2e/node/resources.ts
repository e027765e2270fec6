// The kubelet's arithmetic from a pod spec to CRI resources and cgroup values (cgroup v1,
// cgroupfs driver), as NODE-FACTS.md describes it.

export type QosClass = 'Guaranteed' | 'Burstable' | 'BestEffort'

export interface ResourceList {
  cpu?: string
  memory?: string
}

export interface Resources {
  requests?: ResourceList
  limits?: ResourceList
}

const MIN_SHARES = 2
const SHARES_PER_CPU = 1024
const QUOTA_PERIOD_US = 100_000
const MIN_QUOTA_US = 1000

const BINARY: Record<string, number> = {Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40}
const DECIMAL: Record<string, number> = {k: 1e3, M: 1e6, G: 1e9, T: 1e12}

/** "250m" -> 250, "1" -> 1000, "1.5" -> 1500 */
export function milliCpu(quantity: string | undefined): number {
  if (!quantity) return 0
  if (quantity.endsWith('m')) return Number.parseInt(quantity, 10)
  return Math.round(Number.parseFloat(quantity) * 1000)
}

/** "200Mi" -> 209715200, "1G" -> 1e9, "1024" -> 1024 */
export function bytes(quantity: string | undefined): number {
  if (!quantity) return 0
  const match = /^([0-9.]+)([KMGT]i|[kMGT])?$/.exec(quantity)
  if (!match) throw new Error(`not a memory quantity: ${quantity}`)
  const unit = match[2] ? BINARY[match[2]] ?? DECIMAL[match[2]] : 1
  return Math.round(Number.parseFloat(match[1]) * unit)
}

/** API defaulting: a limit without a request makes the request equal the limit. */
export function effectiveRequests(r: Resources): ResourceList {
  return {cpu: r.requests?.cpu ?? r.limits?.cpu, memory: r.requests?.memory ?? r.limits?.memory}
}

export function qosClass(containers: Resources[]): QosClass {
  const all = containers.map((c) => ({req: effectiveRequests(c), lim: c.limits ?? {}}))
  if (all.every(({req, lim}) => !req.cpu && !req.memory && !lim.cpu && !lim.memory)) return 'BestEffort'
  const guaranteed = all.every(({req, lim}) =>
    lim.cpu && lim.memory && milliCpu(req.cpu) === milliCpu(lim.cpu) && bytes(req.memory) === bytes(lim.memory))
  return guaranteed ? 'Guaranteed' : 'Burstable'
}

export function milliCpuToShares(milli: number): number {
  if (milli === 0) return MIN_SHARES
  return Math.max(MIN_SHARES, Math.floor((milli * SHARES_PER_CPU) / 1000))
}

export function milliCpuToQuota(milli: number): number {
  if (milli === 0) return 0
  return Math.max(MIN_QUOTA_US, Math.floor((milli * QUOTA_PERIOD_US) / 1000))
}

export function oomScoreAdj(qos: QosClass, memoryRequestBytes: number, nodeMemoryBytes: number): number {
  if (qos === 'Guaranteed') return -997
  if (qos === 'BestEffort') return 1000
  let adj = 1000 - Math.floor((1000 * memoryRequestBytes) / nodeMemoryBytes)
  if (adj < 3) adj = 3
  if (adj === 1000) adj = 999
  return adj
}

/** CRI LinuxContainerResources for one container, as the kubelet fills them. */
export function containerResources(r: Resources, qos: QosClass, nodeMemoryBytes: number) {
  const req = effectiveRequests(r)
  const limitMilli = milliCpu(r.limits?.cpu)
  return {
    cpuShares: milliCpuToShares(milliCpu(req.cpu)),
    cpuPeriod: limitMilli ? QUOTA_PERIOD_US : 0,
    cpuQuota: milliCpuToQuota(limitMilli),
    memoryLimitInBytes: bytes(r.limits?.memory),
    oomScoreAdj: oomScoreAdj(qos, bytes(req.memory), nodeMemoryBytes),
  }
}

/** The pod-level cgroup values the kubelet writes (cgroup v1 files). */
export function podCgroupValues(containers: Resources[], qos: QosClass) {
  let requestMilli = 0
  let limitMilli = 0
  let memoryLimit = 0
  let allCpuLimited = true
  let allMemoryLimited = true
  for (const c of containers) {
    requestMilli += milliCpu(effectiveRequests(c).cpu)
    if (c.limits?.cpu) limitMilli += milliCpu(c.limits.cpu)
    else allCpuLimited = false
    if (c.limits?.memory) memoryLimit += bytes(c.limits.memory)
    else allMemoryLimited = false
  }
  return {
    'cpu.shares': qos === 'BestEffort' ? MIN_SHARES : milliCpuToShares(requestMilli),
    'cpu.cfs_period_us': QUOTA_PERIOD_US,
    'cpu.cfs_quota_us': allCpuLimited && limitMilli ? milliCpuToQuota(limitMilli) : -1,
    'memory.limit_in_bytes': allMemoryLimited && memoryLimit ? memoryLimit : -1,
  }
}

export function cgroupParent(qos: QosClass, uid: string): string {
  if (qos === 'Guaranteed') return `/kubepods/pod${uid}`
  return `/kubepods/${qos.toLowerCase()}/pod${uid}`
}
