import type {Host} from '../host/host.js'
import {type EventOptions, eventsBetween, eventsSoFar, kernelLogAfter, kernelLogEnd, needsKernelLog, throttledAbove} from './events.js'
import {readKernelLog, readRestarts, samplePair, sleep} from './gather.js'
import {usageReport} from './rates.js'
import type {UsageSampler} from './sample.js'
import type {PodUsageReport, UsageEvent} from './types.js'

export interface WatchOptions {
  intervalMs: number
  /** -w: keep sampling until the signal aborts */
  watch: boolean
  signal: AbortSignal
  /** stop after this many reports (benchmarks) */
  maxReports?: number
}

/**
 * Waits until the next tick of a fixed schedule, so that the time a sample takes does not
 * stretch the interval; a tick already past is skipped rather than run late in a burst.
 */
async function untilNextTick(schedule: {next: number}, intervalMs: number, signal: AbortSignal): Promise<void> {
  const now = performance.now()
  if (schedule.next <= now) schedule.next = now + intervalMs
  await sleep(schedule.next - now, signal)
  schedule.next += intervalMs
}

/** `top`: a report from two samples an interval apart, then (-w) one per interval against the one before. */
export async function watchUsage(host: Host, sampler: UsageSampler, options: WatchOptions, emit: (report: PodUsageReport) => void): Promise<void> {
  const {before, now} = await samplePair(host, sampler, options.intervalMs, options.signal)
  if (options.signal.aborted) return
  emit(usageReport(before, now))
  if (!options.watch) return
  let previous = now
  const schedule = {next: performance.now() + options.intervalMs}
  for (let reports = 1; options.maxReports === undefined || reports < options.maxReports; reports++) {
    await untilNextTick(schedule, options.intervalMs, options.signal)
    if (options.signal.aborted) return
    const current = await sampler.sample()
    emit(usageReport(previous, current))
    previous = current
  }
}

/**
 * `events`: what has happened so far, then (-w) what each interval adds. The kernel log is read
 * at the start, and again only in an interval where an OOM kill counter rose or a container went.
 */
export async function watchEvents(host: Host, sampler: UsageSampler, options: WatchOptions & EventOptions, emit: (events: UsageEvent[], first: boolean) => void): Promise<void> {
  const [first, log, listing] = await Promise.all([sampler.sample(), readKernelLog(host), readRestarts(host)])
  emit(eventsSoFar(first, log, listing.restarts, listing.directory, options), true)
  if (!options.watch) return
  let previous = first
  let seen = new Set(listing.restarts.map((r) => r.path))
  let kernelEnd = kernelLogEnd(log)
  let bursting = new Set<string>()
  const schedule = {next: performance.now() + options.intervalMs}
  for (let reports = 1; options.maxReports === undefined || reports < options.maxReports; reports++) {
    await untilNextTick(schedule, options.intervalMs, options.signal)
    if (options.signal.aborted) return
    const [current, {restarts, directory}] = await Promise.all([sampler.sample(), readRestarts(host)])
    const fresh = needsKernelLog(previous, current) ? await readKernelLog(host) : undefined
    const newer = fresh && kernelLogAfter(fresh, kernelEnd)
    kernelEnd = Math.max(kernelEnd, kernelLogEnd(fresh))
    emit(eventsBetween(previous, current, newer, restarts.filter((r) => !seen.has(r.path)), directory, options, bursting), false)
    bursting = throttledAbove(previous, current, options.throttlePercent)
    // only the files there now: a node that cycles pods for days keeps a set of its current size
    seen = new Set(restarts.map((r) => r.path))
    previous = current
  }
}
