// `top` and `events` on nodes this machine cannot be: cgroup v2, the systemd driver, and v1 with
// the systemd driver, each laid out under a root folder and read as `--host-root` reads a node.
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {LiveHost} from '../../../src/host/live.js'
import {parseKernelLog} from '../../../src/parse/kernel-log.js'
import {eventsSoFar} from '../../../src/usage/events.js'
import {readRestarts} from '../../../src/usage/gather.js'
import {usageReport} from '../../../src/usage/rates.js'
import {usageTable} from '../../../src/usage/render.js'
import {UsageSampler} from '../../../src/usage/sample.js'
import {BTIME, GROW, IDS, type Layout, SANDBOX, buildNode, fixture, paths} from '../../helpers/usage-node.js'

describe.each<Layout>([
  {version: 1, driver: 'cgroupfs'},
  {version: 1, driver: 'systemd'},
  {version: 2, driver: 'cgroupfs'},
  {version: 2, driver: 'systemd'},
])('cgroup v$version, $driver driver, read under --host-root', (layout) => {
  const root = buildNode(layout)
  const ids = IDS[layout.version]
  const p = paths(layout)

  it('finds the pod and its containers, named from the log folder, the links and the runtime config', async () => {
    const sample = await new UsageSampler(new LiveHost(root)).sample()
    expect(sample.cgroupVersion).toBe(layout.version)
    expect(sample.pods.map((pod) => [pod.namespace, pod.name, pod.uid, pod.qosClass, pod.cgroupDriver, pod.cgroupPath])).toEqual([['shop', 'web', ids.uid, 'Burstable', layout.driver, p.pod]])
    const containers = sample.pods[0].containers.map((c) => [c.name, c.id, c.sandbox, c.cgroupPath]).sort()
    expect(containers).toEqual([['grow', GROW, false, p.grow], ['hog', ids.hog, false, p.hog], [null, SANDBOX, true, p.sandbox]].sort())
  })

  it('reads the counters in the kernel\'s files, and counts OOM kills once per pod', async () => {
    const report = usageReport(undefined, await new UsageSampler(new LiveHost(root)).sample())
    const pod = report.items[0]
    const hog = pod.containers.find((c) => c.name === 'hog')!
    expect(report.notes[0]).toMatch(/a CPU rate needs two samples/)
    expect(hog.cpu.cores).toBeNull()
    // v1 counts the kill in the container's memory.oom_control alone; v2's pod memory.events holds it already
    expect([hog.oomKills, pod.oomKills]).toEqual([1, 1])
    if (layout.version === 1) {
      const grow = pod.containers.find((c) => c.name === 'grow')!
      expect(grow.memory).toEqual({workingSetBytes: 42778624 - 8388608, rssBytes: 118784, usageBytes: 42778624, inactiveFileBytes: 8388608, limitBytes: 134217728, percentOfLimit: ((42778624 - 8388608) / 134217728) * 100})
      expect(hog.cpu).toEqual({cores: null, limitCores: null, percentOfLimit: null, totalSeconds: 0.32615717})
      expect(pod.cpu.limitCores).toBe(0.1)
      expect(pod.throttling).toMatchObject({totalPeriods: 311, totalThrottledPeriods: 306})
      expect(pod.memory.limitBytes).toBeNull() // 9223372036854771712: no limit
    } else {
      expect(hog.memory).toEqual({workingSetBytes: 7000000000 - 5307346944, rssBytes: 790425600, usageBytes: 7000000000, inactiveFileBytes: 5307346944, limitBytes: 8589934592, percentOfLimit: ((7000000000 - 5307346944) / 8589934592) * 100})
      expect(hog.cpu).toEqual({cores: null, limitCores: 0.5, percentOfLimit: null, totalSeconds: 988.930037})
      expect(hog.throttling).toMatchObject({totalPeriods: 1197, totalThrottledPeriods: 496})
      expect(hog.pids).toEqual({current: 7, max: 1024, maxEvents: 2})
    }
  })

  it('turns two samples into cores, % of the limit and throttled periods over the interval', async () => {
    let now = 0
    const sampler = new UsageSampler(new LiveHost(root), () => ({wallMs: BTIME * 1000 + 7000 * 1000 + now, monotonicMs: now}))
    const before = await sampler.sample()
    // 2 s later the container has used 0.5 s of CPU, 8 of 20 periods throttled
    const hogDir = (controller: string) => join(root, 'sys/fs/cgroup', layout.version === 1 ? controller : '', p.hog)
    if (layout.version === 1) {
      const usage = Number(readFileSync(join(hogDir('cpuacct'), 'cpuacct.usage'), 'utf8'))
      writeFileSync(join(hogDir('cpuacct'), 'cpuacct.usage'), `${usage + 500_000_000}\n`)
      writeFileSync(join(hogDir('cpu'), 'cpu.cfs_quota_us'), '50000\n')
      writeFileSync(join(hogDir('cpu'), 'cpu.stat'), 'nr_periods 20\nnr_throttled 8\nthrottled_time 120000000\nnr_bursts 0\nburst_time 0\n')
    } else {
      writeFileSync(join(hogDir(''), 'cpu.stat'), 'usage_usec 989430037\nuser_usec 981346160\nsystem_usec 8083877\nnr_periods 1217\nnr_throttled 504\nthrottled_usec 395504834\nnr_bursts 0\nburst_usec 0\n')
    }
    now = 2000
    const report = usageReport(before, await sampler.sample())
    const hog = report.items[0].containers.find((c) => c.name === 'hog')!
    expect(report.intervalSeconds).toBe(2)
    expect(hog.cpu.cores).toBeCloseTo(0.25, 9)
    expect(hog.cpu.percentOfLimit).toBeCloseTo(50, 7)
    expect(hog.throttling).toMatchObject({periods: 20, throttledPeriods: 8})
    expect(hog.throttling.throttledSeconds).toBeCloseTo(0.12, 9)
    expect(usageTable(report, false, 'containers')).toMatch(/^web\s+hog\s+250m\s+50%\s+\S+\s+\S+\s+8\/20\s/m)
    expect(usageTable(report, true, 'containers')).toMatch(/^shop\s+web\s+hog\s+250m\s+50%\s+\S+\s+\S+\s+8\/20\s/m)
  })

  it('ties the kernel\'s OOM kill line to the container by its cgroup, with PID and task; restarts come from N.log', async () => {
    const host = new LiveHost(root)
    const sample = await new UsageSampler(host).sample()
    const log = {bootTimeMs: BTIME * 1000, ...parseKernelLog(fixture(ids.kernelLog))}
    const {restarts, directory} = await readRestarts(host)
    const events = eventsSoFar(sample, log, restarts, directory, {throttlePercent: 25})
    const kills = events.filter((e) => e.reason === 'OOMKill')
    // the counter's one kill is the kernel's line: one event, not two
    expect(kills).toHaveLength(1)
    expect(kills[0]).toMatchObject({pod: {namespace: 'shop', name: 'web', uid: ids.uid}, container: {name: 'hog', id: ids.hog}, time: ids.uptime === null ? null : new Date(Math.round(BTIME * 1000 + ids.uptime * 1000)).toISOString()})
    expect(kills[0].message).toContain(`PID ${ids.pid} (${ids.task})`)
    const restart = events.find((e) => e.reason === 'Restart')!
    expect(restart).toMatchObject({container: {name: 'hog'}, message: 'container hog restarted: attempt 1 has a new log file'})
    expect(restart.evidence[0]).toMatch(new RegExp(`^/var/log/pods/shop_web_${ids.uid}/hog/1\\.log`))
    // the grow container has no process left (v2: pids.current 0); v1's copy of a live cgroup has one
    expect(events.some((e) => e.reason === 'ContainerExit' && e.container?.name === 'grow')).toBe(layout.version === 2)
    if (layout.version === 2) expect(events.find((e) => e.reason === 'PidsLimit')).toMatchObject({container: {name: 'hog'}, message: '2 fork(s) refused in container hog: pids.max 1024 reached'})
  })
})
