import type {Host} from '../host/host.js'
import {parseCfsQuota, parseCgroupNumber, parseCpuMax, parseFlatKeyed, pickFlatKeyed} from '../parse/cgroup-files.js'
import {type MountinfoEntry, parseMountinfo} from '../parse/mountinfo.js'
import type {CgroupRecord} from './types.js'

/** Where each cgroup hierarchy of the node is mounted, from the node's own mountinfo. */
export interface CgroupMounts {
  /** v1 controller -> mount */
  v1: Map<string, MountinfoEntry>
  v2: MountinfoEntry | undefined
}

export function cgroupMountsOf(hostMounts: MountinfoEntry[]): CgroupMounts {
  const v1 = new Map<string, MountinfoEntry>()
  let v2: MountinfoEntry | undefined
  for (const m of hostMounts) {
    if (m.fsType === 'cgroup2') v2 ??= m
    if (m.fsType !== 'cgroup') continue
    for (const option of m.superOptions) {
      if (['rw', 'ro', 'relatime', 'noatime', 'nosuid', 'nodev', 'noexec'].includes(option)) continue
      v1.set(option, m)
    }
  }
  return {v1, v2}
}

/** The node's mountinfo: PID 1 is in the node's mount namespace (also under /host with hostPID). */
export async function readHostMounts(host: Host): Promise<MountinfoEntry[]> {
  const text = await host.readFile('/proc/1/mountinfo')
  if (!text) return []
  const {mounts, bad} = parseMountinfo(text)
  if (bad) host.warnings.add('bad:/proc/1/mountinfo', `${bad} unparseable lines skipped`, '/proc/1/mountinfo')
  return mounts
}

/**
 * A cgroup path as seen by a process -> the directory on the node, through the hierarchy's
 * mount. undefined for a path with ".." (a process inside a cgroup namespace sees its cgroup
 * relative to the namespace's root: /proc/<pid>/cgroup then says "0::/../../kubepods-..."): where
 * that leads on the node is unknown, and joining it would climb out of the cgroup mount.
 */
function dirFor(mount: MountinfoEntry, cgroupPath: string): string | undefined {
  if (cgroupPath.split('/').includes('..')) return undefined
  const root = mount.root === '/' ? '' : mount.root
  const inside = cgroupPath.startsWith(root + '/') || cgroupPath === root ? cgroupPath.slice(root.length) : cgroupPath
  return `${mount.mountPoint}${inside}`.replace(/\/+$/, '') || '/'
}

/** The node directory of a cgroup path, for one v1 controller (or v2 when version is 2); undefined when not mounted. */
export function cgroupDir(mounts: CgroupMounts, version: 1 | 2 | null, controller: string, cgroupPath: string): string | undefined {
  const mount = version === 2 ? mounts.v2 : mounts.v1.get(controller)
  return mount ? dirFor(mount, cgroupPath) : undefined
}

/** Limits and usage of one cgroup. `paths` maps a controller (or "" for v2) to its cgroup path. */
export async function readCgroup(host: Host, mounts: CgroupMounts, version: 1 | 2 | null, paths: Map<string, string>, reportPath: string): Promise<CgroupRecord> {
  const record: CgroupRecord = {
    path: reportPath,
    memoryLimitBytes: null,
    memoryUsageBytes: null,
    memoryPeakBytes: null,
    oomKills: null,
    cpuShares: null,
    cpuWeight: null,
    cpuQuotaUs: null,
    cpuPeriodUs: null,
    throttledPeriods: null,
    throttledUs: null,
    pidsCurrent: null,
    pidsMax: null,
  }
  if (version === 2) {
    const path = paths.get('')
    if (!mounts.v2 || path === undefined) return record
    const dir = dirFor(mounts.v2, path)
    if (dir === undefined) return unlocated(host, record, path)
    const read = (file: string) => host.readFile(`${dir}/${file}`)
    const [max, current, peak, events, weight, cpuMax, cpuStat, pidsCurrent, pidsMax] = await Promise.all(
      ['memory.max', 'memory.current', 'memory.peak', 'memory.events', 'cpu.weight', 'cpu.max', 'cpu.stat', 'pids.current', 'pids.max'].map(read),
    )
    record.memoryLimitBytes = parseCgroupNumber(max)
    record.memoryUsageBytes = parseCgroupNumber(current)
    record.memoryPeakBytes = parseCgroupNumber(peak)
    record.oomKills = parseFlatKeyed(events).get('oom_kill') ?? null
    record.cpuWeight = parseCgroupNumber(weight)
    const quota = parseCpuMax(cpuMax)
    record.cpuQuotaUs = quota.quotaUs
    record.cpuPeriodUs = quota.periodUs
    const stat = parseFlatKeyed(cpuStat)
    record.throttledPeriods = stat.get('nr_throttled') ?? null
    record.throttledUs = stat.get('throttled_usec') ?? null
    record.pidsCurrent = parseCgroupNumber(pidsCurrent)
    record.pidsMax = parseCgroupNumber(pidsMax)
    return record
  }
  const unlocatable = [...paths.values()].find((p) => p.split('/').includes('..'))
  if (unlocatable !== undefined) return unlocated(host, record, unlocatable)
  const file = (controller: string, name: string) => {
    const mount = mounts.v1.get(controller)
    const path = paths.get(controller)
    const dir = mount && path !== undefined ? dirFor(mount, path) : undefined
    return dir !== undefined ? host.readFile(`${dir}/${name}`) : Promise.resolve(undefined)
  }
  const [limit, usage, peak, oomControl, shares, quota, period, cpuStat, pidsCurrent, pidsMax] = await Promise.all([
    file('memory', 'memory.limit_in_bytes'),
    file('memory', 'memory.usage_in_bytes'),
    file('memory', 'memory.max_usage_in_bytes'),
    file('memory', 'memory.oom_control'),
    file('cpu', 'cpu.shares'),
    file('cpu', 'cpu.cfs_quota_us'),
    file('cpu', 'cpu.cfs_period_us'),
    file('cpu', 'cpu.stat'),
    file('pids', 'pids.current'),
    file('pids', 'pids.max'),
  ])
  record.memoryLimitBytes = parseCgroupNumber(limit)
  record.memoryUsageBytes = parseCgroupNumber(usage)
  record.memoryPeakBytes = parseCgroupNumber(peak)
  record.oomKills = parseFlatKeyed(oomControl).get('oom_kill') ?? null
  record.cpuShares = parseCgroupNumber(shares)
  record.cpuQuotaUs = parseCfsQuota(quota)
  record.cpuPeriodUs = parseCgroupNumber(period)
  const stat = parseFlatKeyed(cpuStat)
  record.throttledPeriods = stat.get('nr_throttled') ?? null
  const throttledNs = stat.get('throttled_time')
  record.throttledUs = throttledNs === undefined ? null : Math.round(throttledNs / 1000)
  record.pidsCurrent = parseCgroupNumber(pidsCurrent)
  record.pidsMax = parseCgroupNumber(pidsMax)
  return record
}

/**
 * A cgroup's counters and gauges at one moment, as the kernel keeps them: what `top` and
 * `events` compare between two samples. Units are the kernel's, made uniform across v1 and v2.
 */
export interface CgroupCounters {
  /** v1 cpuacct.usage; v2 cpu.stat usage_usec x 1000 */
  cpuUsageNs: number | null
  /** v1 cpu.cfs_quota_us / cpu.cfs_period_us; v2 cpu.max */
  cpuQuotaUs: number | null
  cpuPeriodUs: number | null
  /** cpu.stat nr_periods, nr_throttled; throttled_time (v1, ns) or throttled_usec (v2) in ns */
  nrPeriods: number | null
  nrThrottled: number | null
  throttledNs: number | null
  /** v1 memory.usage_in_bytes; v2 memory.current */
  memoryUsageBytes: number | null
  /** v1 memory.limit_in_bytes; v2 memory.max (null: no limit) */
  memoryLimitBytes: number | null
  /** memory.stat: v1 total_inactive_file, v2 inactive_file (both cover the cgroup's children) */
  inactiveFileBytes: number | null
  /** memory.stat: v1 total_rss, v2 anon */
  rssBytes: number | null
  /** v1 memory.oom_control oom_kill (this cgroup only); v2 memory.events oom_kill (with children) */
  oomKills: number | null
  pidsCurrent: number | null
  pidsMax: number | null
  /** pids.events max: forks refused because pids.max was reached */
  pidsMaxEvents: number | null
}

const V1_COUNTER_FILES: Array<[controller: string, file: string]> = [
  ['cpuacct', 'cpuacct.usage'],
  ['cpu', 'cpu.cfs_quota_us'],
  ['cpu', 'cpu.cfs_period_us'],
  ['cpu', 'cpu.stat'],
  ['memory', 'memory.usage_in_bytes'],
  ['memory', 'memory.limit_in_bytes'],
  ['memory', 'memory.stat'],
  ['memory', 'memory.oom_control'],
  ['pids', 'pids.current'],
  ['pids', 'pids.max'],
  ['pids', 'pids.events'],
]
const V2_COUNTER_FILES = ['cpu.stat', 'cpu.max', 'memory.current', 'memory.max', 'memory.stat', 'memory.events', 'pids.current', 'pids.max', 'pids.events']

/** The counters of one cgroup; `paths` as for readCgroup. A file that is gone (a cgroup removed mid-read) reads as null. */
export async function readCgroupCounters(host: Host, mounts: CgroupMounts, version: 1 | 2 | null, paths: Map<string, string>): Promise<CgroupCounters> {
  if (version === 2) {
    const path = paths.get('')
    const dir = mounts.v2 && path !== undefined ? dirFor(mounts.v2, path) : undefined
    const texts = await Promise.all(V2_COUNTER_FILES.map((file) => (dir === undefined ? undefined : host.readFile(`${dir}/${file}`))))
    return countersV2(texts)
  }
  const texts = await Promise.all(
    V1_COUNTER_FILES.map(([controller, file]) => {
      const mount = mounts.v1.get(controller)
      const path = paths.get(controller)
      return mount && path !== undefined ? host.readFile(`${dirFor(mount, path)}/${file}`) : undefined
    }),
  )
  return countersV1(texts)
}

function countersV1([usage, quota, period, cpuStat, memUsage, memLimit, memStat, oomControl, pidsCurrent, pidsMax, pidsEvents]: Array<string | undefined>): CgroupCounters {
  const cpu = pickFlatKeyed(cpuStat, ['nr_periods', 'nr_throttled', 'throttled_time'])
  const memory = pickFlatKeyed(memStat, ['total_inactive_file', 'total_rss'])
  return {
    cpuUsageNs: parseCgroupNumber(usage),
    cpuQuotaUs: parseCfsQuota(quota),
    cpuPeriodUs: parseCgroupNumber(period),
    nrPeriods: cpu.nr_periods,
    nrThrottled: cpu.nr_throttled,
    throttledNs: cpu.throttled_time,
    memoryUsageBytes: parseCgroupNumber(memUsage),
    memoryLimitBytes: parseCgroupNumber(memLimit),
    inactiveFileBytes: memory.total_inactive_file,
    rssBytes: memory.total_rss,
    oomKills: pickFlatKeyed(oomControl, ['oom_kill']).oom_kill,
    pidsCurrent: parseCgroupNumber(pidsCurrent),
    pidsMax: parseCgroupNumber(pidsMax),
    pidsMaxEvents: pickFlatKeyed(pidsEvents, ['max']).max,
  }
}

function countersV2([cpuStat, cpuMax, current, max, memStat, events, pidsCurrent, pidsMax, pidsEvents]: Array<string | undefined>): CgroupCounters {
  const cpu = pickFlatKeyed(cpuStat, ['usage_usec', 'nr_periods', 'nr_throttled', 'throttled_usec'])
  const quota = cpuMax === undefined ? {quotaUs: null, periodUs: null} : parseCpuMax(cpuMax)
  const memory = pickFlatKeyed(memStat, ['inactive_file', 'anon'])
  return {
    cpuUsageNs: cpu.usage_usec === null ? null : cpu.usage_usec * 1000,
    cpuQuotaUs: quota.quotaUs,
    cpuPeriodUs: quota.periodUs,
    nrPeriods: cpu.nr_periods,
    nrThrottled: cpu.nr_throttled,
    throttledNs: cpu.throttled_usec === null ? null : cpu.throttled_usec * 1000,
    memoryUsageBytes: parseCgroupNumber(current),
    memoryLimitBytes: parseCgroupNumber(max),
    inactiveFileBytes: memory.inactive_file,
    rssBytes: memory.anon,
    oomKills: pickFlatKeyed(events, ['oom_kill']).oom_kill,
    pidsCurrent: parseCgroupNumber(pidsCurrent),
    pidsMax: parseCgroupNumber(pidsMax),
    pidsMaxEvents: pickFlatKeyed(pidsEvents, ['max']).max,
  }
}

function unlocated(host: Host, record: CgroupRecord, path: string): CgroupRecord {
  host.warnings.add('cgroup:dotdot', 'cgroup path with ".." (seen from inside a cgroup namespace): limits and usage not read', path)
  return record
}
