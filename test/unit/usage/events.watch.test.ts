// The pure steps of `-w`: what an interval's two samples say happened, and the numbers between them.
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import type {CgroupCounters} from '../../../src/pods/cgroup-reader.js'
import {parseKernelLog} from '../../../src/parse/kernel-log.js'
import {eventsBetween, eventsSince, kernelLogAfter, kernelLogEnd, needsKernelLog, throttledAbove} from '../../../src/usage/events.js'
import {counterDelta, usageReport, workingSetBytes} from '../../../src/usage/rates.js'
import {selectPods} from '../../../src/usage/select.js'
import type {ContainerSample, PodSample, UsageSample} from '../../../src/usage/types.js'

const UID = '80c2e436-efbf-4368-af0a-4ce6b8b95f6d'
const HOG = '7f05c3d7d4730e54e3652ade6e1f2d01b27afe6f9041d2edc1ba6aed478b4d86'
const POD_PATH = `/kubepods/burstable/pod${UID}`
const BOOT_MS = Date.parse('2026-11-30T21:00:00Z')
const options = {throttlePercent: 25}
const directory = {pods: new Map(), containers: new Map()}

const zero: CgroupCounters = {
  cpuUsageNs: 0, cpuQuotaUs: null, cpuPeriodUs: 100000, nrPeriods: 0, nrThrottled: 0, throttledNs: 0, memoryUsageBytes: 0, memoryLimitBytes: null,
  inactiveFileBytes: 0, rssBytes: 0, oomKills: 0, pidsCurrent: 1, pidsMax: null, pidsMaxEvents: 0,
}
const container = (id: string, name: string, counters: Partial<CgroupCounters> = {}, sandbox = false): ContainerSample => ({id, name, sandbox, cgroupPath: `${POD_PATH}/${id}`, counters: {...zero, ...counters}})
const pod = (containers: ContainerSample[], counters: Partial<CgroupCounters> = {}): PodSample => ({
  uid: UID, namespace: 'shop', name: 'web', qosClass: 'Burstable', cgroupDriver: 'cgroupfs', cgroupPath: POD_PATH, counters: {...zero, ...counters}, containers,
})
const sample = (atSeconds: number, pods: PodSample[]): UsageSample => ({time: new Date(BOOT_MS + atSeconds * 1000).toISOString(), monotonicMs: atSeconds * 1000, cgroupVersion: 1, pods})
const kernel = () => ({bootTimeMs: BOOT_MS, ...parseKernelLog(readFileSync(join(import.meta.dirname, '../../fixtures/kernel-log/test-node-6.18-memcg-oom-dd.txt'), 'utf8'))})

describe('eventsBetween', () => {
  it('turns a risen oom_kill counter and the new kernel lines into one OOMKill with the PID', () => {
    const before = sample(6340, [pod([container(HOG, 'hog')])])
    const now = sample(6344, [pod([container(HOG, 'hog', {oomKills: 1})])])
    expect(needsKernelLog(before, now)).toBe(true)
    const events = eventsBetween(before, now, kernelLogAfter(kernel(), 6000), [], directory, options)
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({reason: 'OOMKill', time: new Date(BOOT_MS + 6342808).toISOString(), container: {name: 'hog', id: HOG}})
    expect(events[0].message).toBe("OOM killer killed PID 14781 (dd): the pod's memory limit was reached")
    // kernel lines already told are not told again; the count alone remains
    const again = eventsBetween(before, now, kernelLogAfter(kernel(), kernelLogEnd(kernel())), [], directory, options)
    expect(again.map((e) => [e.reason, e.message, e.evidence])).toEqual([['OOMKill', '1 OOM kill(s) in container hog', [`memory.oom_control oom_kill 0 -> 1 in ${POD_PATH}/${HOG}`]]])
  })

  it('tells a container that went once: emptied, then removed, is one ContainerExit', () => {
    const running = sample(1, [pod([container(HOG, 'hog', {pidsCurrent: 2})])])
    const emptied = sample(3, [pod([container(HOG, 'hog', {pidsCurrent: 0})])])
    const removed = sample(5, [pod([])])
    expect(eventsBetween(running, emptied, undefined, [], directory, options).map((e) => [e.reason, e.message])).toEqual([['ContainerExit', 'container hog exited']])
    expect(eventsBetween(emptied, removed, undefined, [], directory, options)).toEqual([])
    expect(eventsBetween(running, removed, undefined, [], directory, options).map((e) => e.message)).toEqual(['container hog exited and its cgroup was removed'])
    expect(needsKernelLog(running, removed)).toBe(true)
    const sandboxGone = eventsBetween(sample(1, [pod([container('c'.repeat(64), null as unknown as string, {}, true)])]), sample(2, [pod([])]), undefined, [], directory, options)
    expect(sandboxGone.map((e) => e.reason)).toEqual(['SandboxExit'])
  })

  it('tells a throttling burst when it starts, not again while it lasts', () => {
    const at = (s: number, periods: number, throttled: number) => sample(s, [pod([container(HOG, 'hog', {nrPeriods: periods, nrThrottled: throttled, throttledNs: throttled * 1e6})])])
    const [a, b, c, d] = [at(0, 0, 0), at(2, 20, 15), at(4, 40, 34), at(6, 60, 35)]
    const first = eventsBetween(a, b, undefined, [], directory, options)
    expect(first.map((e) => e.message)).toEqual(['container hog was throttled in 15 of 20 CFS periods (75%) over the last 2.0 s, 0.01 s throttled'])
    expect(eventsBetween(b, c, undefined, [], directory, options, throttledAbove(a, b, 25))).toEqual([])
    expect(throttledAbove(c, d, 25).size).toBe(0)
    expect(needsKernelLog(a, b)).toBe(false)
  })

  it('tells refused forks and new N.log files', () => {
    const before = sample(1, [pod([container(HOG, 'hog', {pidsMax: 8, pidsMaxEvents: 0})])])
    const now = sample(2, [pod([container(HOG, 'hog', {pidsMax: 8, pidsMaxEvents: 3})])])
    const restart = {podUid: UID, namespace: 'shop', podName: 'web', container: 'hog', restart: 2, path: `/var/log/pods/shop_web_${UID}/hog/2.log`, bornMs: null}
    const events = eventsBetween(before, now, undefined, [restart], directory, options)
    expect(events.map((e) => [e.reason, e.message])).toEqual([
      ['PidsLimit', '3 fork(s) refused in container hog: pids.max 8 reached'],
      ['Restart', 'container hog restarted: attempt 2 has a new log file'],
    ])
    expect(events[1].evidence).toEqual([`${restart.path} first seen ${now.time}`])
  })
})

describe('--since', () => {
  it('keeps events at or after the cut and counts those with no time', () => {
    const before = sample(6340, [pod([container(HOG, 'hog')])])
    const now = sample(6344, [pod([container(HOG, 'hog', {oomKills: 2})])])
    const events = eventsBetween(before, now, kernelLogAfter(kernel(), 0), [], directory, options)
    const timed = events.find((e) => e.time !== null)!
    expect(eventsSince([...events, {...timed, time: null}], Date.parse(timed.time!))).toEqual({events: events.filter((e) => e.time !== null), untimed: 1})
  })
})

describe('rates', () => {
  it('computes the working set as the kubelet does, never below zero', () => {
    expect(workingSetBytes(100, 30)).toBe(70)
    expect(workingSetBytes(10, 30)).toBe(0)
    expect(workingSetBytes(100, null)).toBe(100)
    expect(workingSetBytes(null, 5)).toBeNull()
  })

  it('takes no rate from a counter that went down (a cgroup made again under the same name)', () => {
    expect(counterDelta(5, 9)).toBe(4)
    expect(counterDelta(9, 5)).toBeNull()
    expect(counterDelta(undefined, 5)).toBeNull()
    const report = usageReport(sample(0, [pod([], {cpuUsageNs: 9e9})]), sample(2, [pod([], {cpuUsageNs: 1e9})]))
    expect(report.items[0].cpu.cores).toBeNull()
  })

  it('sorts by CPU, highest first, and keeps -n', () => {
    const other = {...pod([]), uid: 'x', name: 'api', namespace: 'shop'}
    const quiet = {...pod([]), uid: 'y', name: 'db', namespace: 'data'}
    const before = sample(0, [pod([]), other, quiet])
    const now = sample(1, [pod([], {cpuUsageNs: 1e8}), {...other, counters: {...zero, cpuUsageNs: 5e8}}, quiet])
    const report = usageReport(before, now)
    expect(selectPods(report, undefined, 'cpu').items.map((p) => p.name)).toEqual(['api', 'web', 'db'])
    expect(selectPods(report, 'shop', undefined).items.map((p) => p.name)).toEqual(['api', 'web'])
  })
})
