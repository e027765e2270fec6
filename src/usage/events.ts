// Kernel-level events from what the counters, the kernel log and the log folders show. Pure:
// samples, parsed kernel log lines and log file listings in, events out.
import type {CgroupCounters} from '../pods/cgroup-reader.js'
import {identifyCgroupPath} from '../parse/cgroup.js'
import type {KernelForkRejected, KernelLogFacts, KernelOomKill} from '../parse/kernel-log.js'
import {counterDelta} from './rates.js'
import {type ContainerSample, type EventReason, type PodSample, type UsageEvent, type UsageSample} from './types.js'

/** A container instance's live log, `<restart>.log`: restart N >= 1 is the kubelet's N-th restart of it. */
export interface RestartFile {
  podUid: string
  namespace: string | null
  podName: string | null
  container: string
  restart: number
  path: string
  /** the file's birth time: the runtime makes it when it creates the new container; null where the filesystem keeps none */
  bornMs: number | null
}

/** The kernel log, with boot time to put its "seconds since boot" on the wall clock. */
export interface KernelLog extends KernelLogFacts {
  bootTimeMs: number
}

/** Names for pods and containers no longer in a sample (a container removed after its OOM kill). */
export interface Directory {
  pods: Map<string, {namespace: string | null; name: string | null}>
  containers: Map<string, string>
}

export interface EventOptions {
  /** CPUThrottling from this share of CFS periods throttled, in percent */
  throttlePercent: number
}

const iso = (ms: number) => new Date(ms).toISOString()
const pct = (n: number) => `${n.toFixed(n < 10 ? 1 : 0)}%`

function files(version: 1 | 2 | null) {
  return version === 2
    ? {oom: 'memory.events oom_kill', pidsEvents: 'pids.events max', cpuStat: 'cpu.stat'}
    : {oom: 'memory.oom_control oom_kill', pidsEvents: 'pids.events max', cpuStat: 'cpu.stat'}
}

interface Subject {
  pod: PodSample
  container: ContainerSample | null
  counters: CgroupCounters
  path: string
}

function subjects(sample: UsageSample): Subject[] {
  return sample.pods.flatMap((pod) => [
    {pod, container: null, counters: pod.counters, path: pod.cgroupPath},
    ...pod.containers.map((c) => ({pod, container: c, counters: c.counters, path: c.cgroupPath})),
  ])
}

function event(reason: EventReason, time: number | null, pod: {uid: string; namespace: string | null; name: string | null}, container: {name: string | null; id: string | null} | null, message: string, evidence: string[]): UsageEvent {
  return {reason, time: time === null ? null : iso(time), pod: {namespace: pod.namespace, name: pod.name, uid: pod.uid}, container, message, evidence}
}

function who(subject: Subject): string {
  return subject.container ? `container ${subject.container.name ?? subject.container.id.slice(0, 13)}` : 'the pod cgroup'
}

function kernelTime(log: KernelLog, uptimeSeconds: number | null): number | null {
  return uptimeSeconds === null ? null : Math.round(log.bootTimeMs + uptimeSeconds * 1000)
}

/** Which limit the kernel says was hit, in words. */
function oomCause(kill: KernelOomKill, podPath: string | null): string {
  if (kill.constraint === 'CONSTRAINT_NONE') return 'the node ran out of memory'
  if (kill.oomMemcg && kill.oomMemcg === kill.taskMemcg) return "the container's memory limit was reached"
  if (kill.oomMemcg && podPath && kill.oomMemcg === podPath) return "the pod's memory limit was reached"
  return kill.oomMemcg ? `the memory limit of ${kill.oomMemcg} was reached` : 'a memory limit was reached'
}

/** One OOMKill event per kernel log kill in a pod cgroup; the pod and container come from the victim's cgroup path. */
function kernelOomEvents(log: KernelLog, sample: UsageSample, directory: Directory, keep: (kill: KernelOomKill) => boolean): {events: UsageEvent[]; byContainer: Map<string, number>} {
  const events: UsageEvent[] = []
  const byContainer = new Map<string, number>()
  for (const kill of log.oomKills) {
    const identity = kill.taskMemcg ? identifyCgroupPath(kill.taskMemcg) : undefined
    if (!identity?.podUid || !keep(kill)) continue
    const pod = sample.pods.find((p) => p.uid === identity.podUid)
    const names = pod ?? directory.pods.get(identity.podUid)
    const id = identity.containerId
    if (id) byContainer.set(id, (byContainer.get(id) ?? 0) + 1)
    const name = id ? (pod?.containers.find((c) => c.id === id)?.name ?? directory.containers.get(id) ?? null) : null
    events.push(event('OOMKill', kernelTime(log, kill.uptimeSeconds), {uid: identity.podUid, namespace: names?.namespace ?? null, name: names?.name ?? null}, id ? {name, id} : null,
      `OOM killer killed PID ${kill.pid}${kill.task !== null ? ` (${kill.task})` : ''}: ${oomCause(kill, identity.podPath)}`,
      kill.lines.map((l) => `kernel: ${l}`)))
  }
  return {events, byContainer}
}

function oomSubjects(sample: UsageSample): Subject[] {
  // v2 counts a container's kills in its pod's memory.events too: only v1's pod cgroup counts its own alone
  return subjects(sample).filter((s) => s.container !== null || sample.cgroupVersion !== 2)
}

function forkRejection(log: KernelLog | undefined, path: string): KernelForkRejected | undefined {
  return log?.forkRejections.find((f) => f.cgroupPath === path)
}

/**
 * What has happened, as the node shows it now: counts since each cgroup was made, kernel log
 * lines, and one restart per `<N>.log` a container's log folder holds.
 */
export function eventsSoFar(sample: UsageSample, log: KernelLog | undefined, restarts: RestartFile[], directory: Directory, options: EventOptions): UsageEvent[] {
  const f = files(sample.cgroupVersion)
  const out: UsageEvent[] = []
  const kernel = log ? kernelOomEvents(log, sample, directory, () => true) : {events: [], byContainer: new Map<string, number>()}
  out.push(...kernel.events)
  for (const s of oomSubjects(sample)) {
    const kills = s.counters.oomKills ?? 0
    const explained = s.container ? (kernel.byContainer.get(s.container.id) ?? 0) : 0
    if (kills <= explained) continue
    const why = !log ? 'the kernel log could not be read' : 'the kernel log holds no line for them (it may have wrapped)'
    out.push(event('OOMKill', null, s.pod, s.container && {name: s.container.name, id: s.container.id},
      `${kills - explained} OOM kill(s) in ${who(s)} since its cgroup was made; ${why}`, [`${f.oom} ${kills} in ${s.path}`]))
  }
  for (const s of subjects(sample)) {
    if (s.container?.sandbox) continue
    const {nrThrottled, nrPeriods, throttledNs} = s.counters
    if (nrThrottled && nrPeriods && (nrThrottled / nrPeriods) * 100 >= options.throttlePercent) {
      out.push(event('CPUThrottling', null, s.pod, s.container && {name: s.container.name, id: s.container.id},
        `${who(s)} was throttled in ${nrThrottled} of ${nrPeriods} CFS periods (${pct((nrThrottled / nrPeriods) * 100)}) since its cgroup was made${throttledNs !== null ? `, ${(throttledNs / 1e9).toFixed(2)} s in all` : ''}`,
        [`${f.cpuStat} nr_throttled ${nrThrottled} nr_periods ${nrPeriods} in ${s.path}`]))
    }
  }
  for (const s of subjects(sample)) {
    const refused = s.counters.pidsMaxEvents ?? 0
    if (refused <= 0) continue
    const line = forkRejection(log, s.path)
    out.push(event('PidsLimit', line && log ? kernelTime(log, line.uptimeSeconds) : null, s.pod, s.container && {name: s.container.name, id: s.container.id},
      `${refused} fork(s) refused in ${who(s)}: pids.max ${s.counters.pidsMax ?? 'max'} reached${line ? ' (first refusal at the time shown)' : ''}`,
      [`${f.pidsEvents} ${refused} in ${s.path}`, ...(line ? [`kernel: ${line.line}`] : [])]))
  }
  for (const s of subjects(sample)) {
    if (!s.container || s.counters.pidsCurrent !== 0) continue
    out.push(event(s.container.sandbox ? 'SandboxExit' : 'ContainerExit', null, s.pod, {name: s.container.name, id: s.container.id},
      `${s.container.sandbox ? 'the sandbox (pause)' : who(s)} has no process left; its cgroup is still there`, [`pids.current 0 in ${s.path}`]))
  }
  for (const r of restarts) {
    if (r.restart < 1) continue
    out.push(restartEvent(r))
  }
  return sortEvents(out)
}

function restartEvent(r: RestartFile, seenAt?: number): UsageEvent {
  const when = r.bornMs ?? seenAt ?? null
  return event('Restart', when, {uid: r.podUid, namespace: r.namespace, name: r.podName}, {name: r.container, id: null},
    `container ${r.container} restarted: attempt ${r.restart} has a new log file`,
    [`${r.path}${r.bornMs !== null ? ` made ${iso(r.bornMs)}` : seenAt !== undefined ? ` first seen ${iso(seenAt)}` : ''}`])
}

/**
 * What changed between two samples taken by `-w`: counters that rose, cgroups that went, log
 * files that appeared. `log` holds only kernel lines written since the previous interval;
 * `bursting`, the cgroups throttled above the threshold in the previous interval (a burst that
 * goes on is not told again).
 */
export function eventsBetween(before: UsageSample, now: UsageSample, log: KernelLog | undefined, newRestarts: RestartFile[], directory: Directory, options: EventOptions, bursting: ReadonlySet<string> = new Set()): UsageEvent[] {
  const f = files(now.cgroupVersion)
  const nowMs = Date.parse(now.time)
  const seconds = (now.monotonicMs - before.monotonicMs) / 1000
  const previous = new Map(subjects(before).map((s) => [s.path, s]))
  const out: UsageEvent[] = []

  const rose = oomSubjects(now).filter((s) => (counterDelta(previous.get(s.path)?.counters.oomKills, s.counters.oomKills) ?? 0) > 0)
  // the log holds only lines newer than the last interval's (the watcher keeps the kernel's clock)
  const kernel = log ? kernelOomEvents(log, now, directory, () => true) : {events: [], byContainer: new Map<string, number>()}
  out.push(...kernel.events)
  for (const s of rose) {
    const before = previous.get(s.path)!.counters.oomKills!
    const delta = s.counters.oomKills! - before
    const explained = s.container ? (kernel.byContainer.get(s.container.id) ?? 0) : 0
    if (delta <= explained) continue
    out.push(event('OOMKill', nowMs, s.pod, s.container && {name: s.container.name, id: s.container.id},
      `${delta - explained} OOM kill(s) in ${who(s)}${log ? '' : ' (the kernel log could not be read for the PID)'}`,
      [`${f.oom} ${before} -> ${s.counters.oomKills} in ${s.path}`]))
  }

  for (const s of subjects(now)) {
    const was = previous.get(s.path)
    const share = was && intervalThrottling(was, s)
    // a burst is told once, when it starts: the interval before was below the threshold
    if (!was || !share || share.percent < options.throttlePercent || bursting.has(s.path)) continue
    out.push(event('CPUThrottling', nowMs, s.pod, s.container && {name: s.container.name, id: s.container.id},
      `${who(s)} was throttled in ${share.throttled} of ${share.periods} CFS periods (${pct(share.percent)}) over the last ${seconds.toFixed(1)} s${share.ns !== null ? `, ${(share.ns / 1e9).toFixed(2)} s throttled` : ''}`,
      [`${f.cpuStat} nr_throttled ${was.counters.nrThrottled} -> ${s.counters.nrThrottled}, nr_periods ${was.counters.nrPeriods} -> ${s.counters.nrPeriods} in ${s.path}`]))
  }

  for (const s of subjects(now)) {
    const was = previous.get(s.path)
    const refused = counterDelta(was?.counters.pidsMaxEvents, s.counters.pidsMaxEvents)
    if (!was || !refused) continue
    out.push(event('PidsLimit', nowMs, s.pod, s.container && {name: s.container.name, id: s.container.id},
      `${refused} fork(s) refused in ${who(s)}: pids.max ${s.counters.pidsMax ?? 'max'} reached`,
      [`${f.pidsEvents} ${was.counters.pidsMaxEvents} -> ${s.counters.pidsMaxEvents} in ${s.path}`]))
  }

  const current = new Map(subjects(now).map((s) => [s.path, s]))
  for (const was of previous.values()) {
    if (!was.container) continue
    const is = current.get(was.path)
    // a cgroup seen empty before was reported then (or as the node stood): its removal is no news
    const gone = !is && was.counters.pidsCurrent !== 0
    const emptied = is && (was.counters.pidsCurrent ?? 0) > 0 && is.counters.pidsCurrent === 0
    if (!gone && !emptied) continue
    const subject = is ?? was
    out.push(event(was.container.sandbox ? 'SandboxExit' : 'ContainerExit', nowMs, subject.pod, {name: was.container.name, id: was.container.id},
      `${was.container.sandbox ? 'the sandbox (pause)' : who(was)} exited${gone ? ' and its cgroup was removed' : ''}`,
      [gone ? `${was.path} gone (was there at ${before.time})` : `pids.current ${was.counters.pidsCurrent} -> 0 in ${was.path}`]))
  }

  for (const r of newRestarts) if (r.restart >= 1) out.push(restartEvent(r, nowMs))
  return sortEvents(out)
}

function intervalThrottling(was: Subject, is: Subject): {periods: number; throttled: number; percent: number; ns: number | null} | null {
  const periods = counterDelta(was.counters.nrPeriods, is.counters.nrPeriods)
  const throttled = counterDelta(was.counters.nrThrottled, is.counters.nrThrottled)
  if (!periods || throttled === null) return null
  return {periods, throttled, percent: (throttled / periods) * 100, ns: counterDelta(was.counters.throttledNs, is.counters.throttledNs)}
}

/** The cgroups throttled above the threshold between two samples: the bursts going on. */
export function throttledAbove(before: UsageSample, now: UsageSample, percent: number): Set<string> {
  const previous = new Map(subjects(before).map((s) => [s.path, s]))
  const paths = new Set<string>()
  for (const s of subjects(now)) {
    const was = previous.get(s.path)
    const share = was && intervalThrottling(was, s)
    if (share && share.percent >= percent) paths.add(s.path)
  }
  return paths
}

/** Events with no known time (counts since a cgroup was made) first, then by time. */
export function sortEvents(events: UsageEvent[]): UsageEvent[] {
  return events
    .map((e, i) => [e, i] as const)
    .sort(([a, i], [b, j]) => {
      if (a.time === b.time) return i - j
      if (a.time === null) return -1
      if (b.time === null) return 1
      return a.time < b.time ? -1 : 1
    })
    .map(([e]) => e)
}

/** --since: events at or after the cut; those of unknown time are dropped, and counted. */
export function eventsSince(events: UsageEvent[], cutMs: number): {events: UsageEvent[]; untimed: number} {
  const kept = events.filter((e) => e.time !== null && Date.parse(e.time) >= cutMs)
  return {events: kept, untimed: events.filter((e) => e.time === null).length}
}

/**
 * Whether an interval needs the kernel log: an OOM kill counter rose, or a container went (its
 * main process may have been the one killed, and its counter went with its cgroup).
 */
export function needsKernelLog(before: UsageSample, now: UsageSample): boolean {
  const current = new Map(subjects(now).map((s) => [s.path, s]))
  for (const was of subjects(before)) {
    const is = current.get(was.path)
    if (!is) {
      if (was.container) return true
      continue
    }
    if ((counterDelta(was.counters.oomKills, is.counters.oomKills) ?? 0) > 0) return true
    if (was.container && (was.counters.pidsCurrent ?? 0) > 0 && is.counters.pidsCurrent === 0) return true
  }
  return false
}

/** The kernel log lines after a point on the kernel's clock (seconds since boot): what a watcher has not yet reported. */
export function kernelLogAfter(log: KernelLog, uptimeSeconds: number): KernelLog {
  const newer = <T extends {uptimeSeconds: number | null}>(items: T[]) => items.filter((i) => i.uptimeSeconds !== null && i.uptimeSeconds > uptimeSeconds)
  return {bootTimeMs: log.bootTimeMs, oomKills: newer(log.oomKills), forkRejections: newer(log.forkRejections)}
}

/** The latest point on the kernel's clock a log reaches. */
export function kernelLogEnd(log: KernelLog | undefined): number {
  let end = 0
  for (const item of [...(log?.oomKills ?? []), ...(log?.forkRejections ?? [])]) if (item.uptimeSeconds !== null && item.uptimeSeconds > end) end = item.uptimeSeconds
  return end
}
