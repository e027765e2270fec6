import type {Host} from '../host/host.js'
import {parseCfsQuota, parseCgroupNumber, parseCpuMax, parseFlatKeyed} from '../parse/cgroup-files.js'
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

function unlocated(host: Host, record: CgroupRecord, path: string): CgroupRecord {
  host.warnings.add('cgroup:dotdot', 'cgroup path with ".." (seen from inside a cgroup namespace): limits and usage not read', path)
  return record
}
