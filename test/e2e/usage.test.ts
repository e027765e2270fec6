// `top` and `events` against pods containerd really runs: a CPU burner under a quota, a
// container whose working set grows step by step, one pushed over its memory limit until the
// kernel OOM-kills for real, and one restarted through CRI the way the kubelet restarts.
// Every number is checked against the cgroup files this test reads itself and against
// containerd's own ContainerStats answer over CRI.
//
// Tolerances (docs/top-events.md says why): CPU cores within 0.02 cores (20% of the 100m
// quota) of the test's own reading over a window that holds top's; memory within 2 MiB of the
// test's reading and of CRI's (the shells' `sleep 0.1` forks move a container by a few hundred KiB).
import {randomBytes} from 'node:crypto'
import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {type ResultPromise, execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {ContainerUsage, PodUsage, UsageEvent} from '../../src/usage/types.js'

/** A `top` sample as printed (one JSON line), and an `events` batch. */
interface UsageDocument {kind: 'PodUsage'; capturedAt: string; intervalSeconds: number | null; notes: string[]; items: PodUsage[]}
interface EventDocument {kind: 'EventList'; items: UsageEvent[]}
const eventsIn = (stdout: string) => {
  const lines = stdout.trim().split('\n')
  expect(lines, 'without -w: one EventList document').toHaveLength(1)
  const document = JSON.parse(lines[0]) as EventDocument
  expect(document.kind).toBe('EventList')
  return document.items
}
import {REPO, nodedoc} from './node/cli.js'
import {CGROUP_ROOT, type PodSpec, restartContainer} from './node/kubelet.js'
import {type TestNode, nodeDown, nodeUp} from './node/node.js'
import {saveState} from './node/state.js'

const suffix = randomBytes(3).toString('hex')
const ns = `e2e-${suffix}`
const MiB = 2 ** 20
const QUOTA_CORES = 0.1

// first 8 MiB of page cache (a file written once: inactive file pages, which the working set
// leaves out); then each step waits for a file from the test, writes 16 MiB into /dev/shm
// (tmpfs: charged to the container, never inactive file pages), and says so
const GROW = 'dd if=/dev/zero of=/work/cache bs=1M count=8 2>/dev/null; sync; touch /work/done0; i=1; while [ $i -le 3 ]; do while [ ! -e /work/go$i ]; do sleep 0.1; done; dd if=/dev/zero of=/dev/shm/fill$i bs=1M count=16 2>/dev/null; touch /work/done$i; i=$((i+1)); done; exec sleep 10000'
// dd's 64 MiB buffer against a 32 MiB limit: the kernel kills dd, the shell lives on
const HOG = 'while [ ! -e /work/oom ]; do sleep 0.1; done; dd if=/dev/zero of=/dev/null bs=64M count=1; touch /work/after-oom; exec sleep 10000'

const specs: PodSpec[] = [
  {name: 'burner', namespace: ns, containers: [{name: 'burn', command: ['sh', '-c', 'while :; do :; done'], resources: {requests: {cpu: '50m'}, limits: {cpu: '100m'}}}]},
  {name: 'grower', namespace: ns, emptyDirs: ['work'], containers: [{name: 'grow', command: ['sh', '-c', GROW], resources: {requests: {memory: '32Mi'}, limits: {memory: '128Mi'}}, volumeMounts: [{name: 'work', mountPath: '/work'}]}]},
  {name: 'hog', namespace: ns, emptyDirs: ['work'], containers: [{name: 'hog', command: ['sh', '-c', HOG], resources: {requests: {memory: '16Mi'}, limits: {memory: '32Mi'}}, volumeMounts: [{name: 'work', mountPath: '/work'}]}]},
  {name: 'phoenix', namespace: ns, containers: [{name: 'app', command: ['sleep', '10000']}]},
]

let node: TestNode
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

beforeAll(async () => {
  node = await nodeUp({apps: ns, system: ns}, specs)
})

afterAll(async () => {
  node?.cri.close()
  expect(await nodeDown()).toEqual([])
})

const podState = (name: string) => node.pods.find((p) => p.name === name)!
const containerOf = (pod: string, name: string) => podState(pod).containers.filter((c) => c.name === name).at(-1)!
const cgroupPathOf = (pod: string, name: string) => `${podState(pod).cgroupParent}/${containerOf(pod, name).id}`
const workDir = (pod: string) => join(podState(pod).kubeletDir, 'volumes/kubernetes.io~empty-dir/work')

async function cgroupFile(controller: string, path: string, file: string): Promise<string> {
  return readFile(join(CGROUP_ROOT, controller, path, file), 'utf8')
}
const keyed = (text: string, key: string) => Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(text)![1])

/** The working set as the kubelet computes it, from files this test reads itself. */
async function ownWorkingSet(path: string): Promise<number> {
  const usage = Number(await cgroupFile('memory', path, 'memory.usage_in_bytes'))
  const inactive = keyed(await cgroupFile('memory', path, 'memory.stat'), 'total_inactive_file')
  return Math.max(0, usage - inactive)
}

async function top(args: string[]): Promise<UsageDocument> {
  const result = await nodedoc(['top', ...args, '-n', ns, '-o', 'json'])
  expect(result.exitCode, result.stderr).toBe(0)
  const lines = result.stdout.trim().split('\n')
  expect(lines).toHaveLength(1)
  return JSON.parse(lines[0])
}

function podIn(report: UsageDocument, name: string): PodUsage {
  const pod = report.items.find((p) => p.name === name)
  expect(pod, `${name} in ${report.items.map((p) => p.name).join(', ')}`).toBeDefined()
  return pod!
}

function containerIn(report: UsageDocument, pod: string, name: string): ContainerUsage {
  const container = podIn(report, pod).containers.find((c) => c.name === name)
  expect(container, `${pod}/${name}`).toBeDefined()
  return container!
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(100)
  }
}

/** `events -w -o json` in the background, its JSON lines collected as they come. */
function watchEvents(): {events: UsageEvent[]; child: ResultPromise; stop: () => Promise<number>} {
  const child = execa('node', [join(REPO, 'bin/run.js'), 'events', '-w', '-n', ns, '-o', 'json', '--interval', '500ms'], {reject: false, cwd: REPO, env: {NO_COLOR: '1'}, buffer: false})
  const events: UsageEvent[] = []
  let partial = ''
  child.stdout!.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n')
    partial = lines.pop()!
    for (const line of lines) if (line.trim()) events.push(...(JSON.parse(line) as EventDocument).items)
  })
  return {
    events,
    child,
    stop: async () => {
      child.kill('SIGINT')
      return (await child).exitCode ?? -1
    },
  }
}

describe('nodedoc top on a real node', () => {
  it('shows a CPU burner near its quota, throttled, as the cgroup files and CRI ContainerStats say', async () => {
    const path = cgroupPathOf('burner', 'burn')
    const id = containerOf('burner', 'burn').id!
    await sleep(1000) // past the start: the loop runs at its quota
    const usage = async () => Number(await cgroupFile('cpuacct', path, 'cpuacct.usage'))
    const throttled = async (at = path) => keyed(await cgroupFile('cpu', at, 'cpu.stat'), 'nr_throttled')
    const podPath = podState('burner').cgroupParent
    const [u0, th0, t0, podTh0] = [await usage(), await throttled(), performance.now(), await throttled(podPath)]
    const criBefore = (await node.cri.containerStats(id))!
    const report = await top(['containers', '--interval', '2s'])
    const criAfter = (await node.cri.containerStats(id))!
    const [u1, th1, t1, podTh1] = [await usage(), await throttled(), performance.now(), await throttled(podPath)]

    const burn = containerIn(report, 'burner', 'burn')
    const own = (u1 - u0) / 1e9 / ((t1 - t0) / 1000)
    expect(report.intervalSeconds).toBeGreaterThan(1.9)
    expect(burn.cpu.limitCores).toBeCloseTo(QUOTA_CORES, 5)
    // near the quota: the kernel enforces it, so never much above; a busy machine may give less
    expect(burn.cpu.cores!).toBeGreaterThan(QUOTA_CORES * 0.7)
    expect(burn.cpu.cores!).toBeLessThan(QUOTA_CORES * 1.1)
    expect(Math.abs(burn.cpu.cores! - own)).toBeLessThan(0.02)
    expect(burn.cpu.percentOfLimit!).toBeGreaterThan(70)

    // the quota ran out in most periods of top's interval, and the counter top read lies between ours
    expect(th1).toBeGreaterThan(th0)
    expect(burn.throttling.throttledPeriods!).toBeGreaterThan(5)
    expect(burn.throttling.totalThrottledPeriods!).toBeGreaterThanOrEqual(th0)
    expect(burn.throttling.totalThrottledPeriods!).toBeLessThanOrEqual(th1)
    // the pod row's is the pod-level quota's own (100m too: the kubelet sums the containers' limits)
    const pod = podIn(report, 'burner')
    expect(pod.throttling.throttledPeriods!).toBeGreaterThan(0)
    expect(pod.throttling.totalThrottledPeriods!).toBeGreaterThanOrEqual(podTh0)
    expect(pod.throttling.totalThrottledPeriods!).toBeLessThanOrEqual(podTh1)

    // containerd's cumulative CPU time brackets top's, and its own rate over the same window agrees
    const criNs = (s: typeof criBefore) => s.cpu!.usageCoreNanoSeconds!.value
    expect(criNs(criBefore)).toBeGreaterThanOrEqual(u0)
    expect(criNs(criAfter)).toBeLessThanOrEqual(u1)
    // top reports seconds; back to whole nanoseconds, as the cgroup counts them, before comparing
    const topNs = Math.round(burn.cpu.totalSeconds! * 1e9)
    expect(topNs).toBeGreaterThanOrEqual(criNs(criBefore))
    expect(topNs).toBeLessThanOrEqual(criNs(criAfter))
    const criCores = (criNs(criAfter) - criNs(criBefore)) / (criAfter.cpu!.timestamp - criBefore.cpu!.timestamp)
    expect(Math.abs(burn.cpu.cores! - criCores)).toBeLessThan(0.02)
  })

  it('follows a working set as it grows, as the cgroup files and CRI ContainerStats say', async () => {
    const path = cgroupPathOf('grower', 'grow')
    const id = containerOf('grower', 'grow').id!
    const seen: number[] = []
    for (let step = 0; step <= 3; step++) {
      if (step > 0) writeFileSync(join(workDir('grower'), `go${step}`), '')
      await waitFor(`grow step ${step}`, () => existsSync(join(workDir('grower'), `done${step}`)))
      const report = await top(['containers', '--interval', '200ms'])
      const [own, cri] = [await ownWorkingSet(path), (await node.cri.containerStats(id))!]
      const grow = containerIn(report, 'grower', 'grow')
      expect(Math.abs(grow.memory.workingSetBytes! - own), `step ${step}: top vs memory.usage_in_bytes - total_inactive_file`).toBeLessThan(2 * MiB)
      expect(Math.abs(grow.memory.workingSetBytes! - cri.memory!.workingSetBytes!.value), `step ${step}: top vs CRI`).toBeLessThan(2 * MiB)
      expect(grow.memory.limitBytes).toBe(128 * MiB)
      expect(grow.memory.percentOfLimit).toBeCloseTo((grow.memory.workingSetBytes! / (128 * MiB)) * 100, 5)
      // the page cache written first is in usage but not in the working set
      expect(grow.memory.inactiveFileBytes!, `step ${step}`).toBeGreaterThan(6 * MiB)
      expect(grow.memory.usageBytes! - grow.memory.workingSetBytes!).toBe(grow.memory.inactiveFileBytes)
      seen.push(grow.memory.workingSetBytes!)
    }
    for (let step = 1; step <= 3; step++) expect(seen[step] - seen[step - 1], `step ${step}`).toBeGreaterThan(15 * MiB)
  })
})

describe('nodedoc events on a real node', () => {
  it('reports a real OOM kill with the killed PID from the kernel log, live and afterwards; top counts it', async () => {
    const path = cgroupPathOf('hog', 'hog')
    const watcher = watchEvents()
    try {
      await sleep(1500) // the watcher has its first sample
      const startedAt = Date.now()
      writeFileSync(join(workDir('hog'), 'oom'), '')
      await waitFor('memory.oom_control oom_kill 1', async () => keyed(await cgroupFile('memory', path, 'memory.oom_control'), 'oom_kill') === 1)
      await waitFor('the shell to outlive dd', () => existsSync(join(workDir('hog'), 'after-oom')))

      // the kernel's own account, read by this test
      const dmesg = String((await execa('dmesg')).stdout)
      const line = dmesg.split('\n').filter((l) => l.includes(`task_memcg=${path},`)).at(-1)
      expect(line, 'an oom-kill line for the hog container').toBeDefined()
      const pid = Number(/,pid=(\d+),/.exec(line!)![1])

      await waitFor('the watcher to report the OOM kill', () => watcher.events.some((e) => e.reason === 'OOMKill' && e.container?.name === 'hog'), 10_000)
      const live = watcher.events.find((e) => e.reason === 'OOMKill' && e.container?.name === 'hog')!
      expect(live).toMatchObject({pod: {namespace: ns, name: 'hog', uid: podState('hog').uid}, container: {id: containerOf('hog', 'hog').id}})
      expect(live.message).toContain(`PID ${pid} (dd)`)
      expect(live.evidence.some((e) => e.includes(line!.trim()))).toBe(true)
      expect(Math.abs(Date.parse(live.time!) - startedAt)).toBeLessThan(20_000)

      const after = await nodedoc(['events', 'hog', '-n', ns, '-o', 'json'])
      expect(after.exitCode, after.stderr).toBe(0)
      const kills = eventsIn(after.stdout).filter((e) => e.reason === 'OOMKill')
      expect(kills).toHaveLength(1)
      expect(kills[0].message).toContain(`PID ${pid} (dd)`)
      expect(kills[0].container).toEqual({name: 'hog', id: containerOf('hog', 'hog').id})

      const report = await top(['--interval', '200ms'])
      expect(containerIn(report, 'hog', 'hog').oomKills).toBe(1)
      expect(podIn(report, 'hog').oomKills).toBe(1)
      // the container lives on: only dd was killed
      expect((await node.cri.containerStatus(containerOf('hog', 'hog').id!)).status?.state).toBe('CONTAINER_RUNNING')
    } finally {
      expect(await watcher.stop(), 'Ctrl-C ends a watch with exit 0').toBe(0)
    }
  })

  it('reports a container restarted through CRI as the kubelet restarts it (new attempt, new N.log)', async () => {
    const spec = specs.find((s) => s.name === 'phoenix')!
    const pod = podState('phoenix')
    const oldId = containerOf('phoenix', 'app').id!
    const watcher = watchEvents()
    let newId: string | undefined
    const restartedAt = Date.now()
    try {
      await sleep(1500)
      // the kubelet restarts a container that has gone: here stopped over CRI, as a failed liveness probe has it stopped
      await node.cri.stopContainer(oldId, 0)
      newId = await restartContainer(node.cri, spec, pod, 'app', () => saveState(node.state))
      await waitFor('the watcher to report the restart', () => watcher.events.some((e) => e.reason === 'Restart' && e.pod.name === 'phoenix'), 10_000)
      await waitFor('the watcher to report the old container gone', () => watcher.events.some((e) => e.reason === 'ContainerExit' && e.container?.id === oldId), 10_000)
    } finally {
      expect(await watcher.stop()).toBe(0)
    }
    const live = watcher.events.find((e) => e.reason === 'Restart')!
    expect(live).toMatchObject({pod: {namespace: ns, name: 'phoenix', uid: pod.uid}, container: {name: 'app'}})
    expect(live.evidence[0]).toContain(`${pod.logDir}/app/1.log`)

    const after = await nodedoc(['events', 'phoenix', '-n', ns, '-o', 'json'])
    expect(after.exitCode, after.stderr).toBe(0)
    const restarts = eventsIn(after.stdout).filter((e) => e.reason === 'Restart')
    expect(restarts).toHaveLength(1)
    expect(restarts[0].message).toContain('attempt 1')
    // the time is the new log file's birth: when the runtime created the new container
    expect(Math.abs(Date.parse(restarts[0].time!) - restartedAt)).toBeLessThan(5_000)
    expect((await node.cri.containerStatus(newId!)).status).toMatchObject({state: 'CONTAINER_RUNNING', metadata: {name: 'app', attempt: 1}})
  })
})

describe('a snapshot of the node', () => {
  it('records two samples a second apart: top --from has rates; events --from has the OOM kill', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nodedoc-usage-snap-'))
    try {
      const snap = join(dir, 'snap')
      const taken = await nodedoc(['snapshot', '-o', snap])
      expect(taken.exitCode, taken.stderr).toBe(0)
      const replay = await nodedoc(['top', 'containers', '--from', snap, '-n', ns, '-o', 'json'])
      expect(replay.exitCode, replay.stderr).toBe(0)
      const report = JSON.parse(replay.stdout) as UsageDocument
      expect(report.intervalSeconds!).toBeGreaterThan(0.9)
      expect(report.intervalSeconds!).toBeLessThan(3)
      expect(containerIn(report, 'burner', 'burn').cpu.cores!).toBeGreaterThan(QUOTA_CORES * 0.7)
      expect(containerIn(report, 'hog', 'hog').oomKills).toBe(1)
      const events = await nodedoc(['events', 'hog', '--from', snap, '-n', ns, '-o', 'json'])
      expect(events.stdout).toMatch(/"reason":"OOMKill".*PID \d+ \(dd\)/)

      // without the recorded pair, a snapshot holds one sample: top says a rate needs two
      rmSync(join(snap, 'answers', 'usage-samples.json'))
      const single = await nodedoc(['top', '--from', snap, '-n', ns])
      expect(single.exitCode, single.stderr).toBe(0)
      expect(single.stdout).toMatch(/^# a CPU rate needs two samples/m)
      expect(single.stdout).toMatch(/burner/)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
