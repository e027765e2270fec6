import {ColumnStream, columns} from '../render/table.js'
import {terminalSafe} from '../render/terminal.js'
import {type SortKey, containerRows, worstThrottled} from './select.js'
import type {PodUsageReport, Usage, UsageEvent} from './types.js'

/** kubectl top's units: millicores, and Mi (Ki below one Mi). */
export function cores(value: number | null): string | undefined {
  return value === null ? undefined : `${Math.round(value * 1000)}m`
}

export function memory(bytes: number | null): string | undefined {
  if (bytes === null) return undefined
  return bytes < 2 ** 20 ? `${Math.round(bytes / 1024)}Ki` : `${Math.round(bytes / 2 ** 20)}Mi`
}

const percent = (value: number | null) => (value === null ? undefined : `${Math.round(value)}%`)
const throttled = (u: Usage) => (u.throttling.throttledPeriods === null ? undefined : `${u.throttling.throttledPeriods}/${u.throttling.periods ?? 0}`)
const pids = (u: Usage) => (u.pids.current === null ? undefined : u.pids.max === null ? `${u.pids.current}` : `${u.pids.current}/${u.pids.max}`)
const seconds = (value: number | null) => (value === null ? undefined : `${value.toFixed(2)}s`)
const safe = (text: string | null) => (text === null ? undefined : terminalSafe(text))

/** `throttledBy`: whose throttling a pod row shows (the worst of the pod cgroup and its containers). */
function usageCells(u: Usage, wide: boolean, throttledBy: Usage = u): Array<string | number | undefined> {
  const cells = [cores(u.cpu.cores), percent(u.cpu.percentOfLimit), memory(u.memory.workingSetBytes), percent(u.memory.percentOfLimit), throttled(throttledBy), pids(u), u.oomKills ?? undefined]
  return wide ? [...cells, cores(u.cpu.limitCores), memory(u.memory.rssBytes), memory(u.memory.limitBytes), seconds(throttledBy.throttling.throttledSeconds)] : cells
}

const USAGE_HEAD = ['cpu(cores)', 'cpu%', 'memory(wss)', 'mem%', 'throttled', 'pids', 'oom kills']
const WIDE_HEAD = ['cpu limit', 'rss', 'mem limit', 'throttled time']

/** `top`: one row per pod, or per container with `containers`. */
export function usageTable(report: PodUsageReport, wide: boolean, view: 'pods' | 'containers', sort?: SortKey): string {
  const notes = report.notes.map((n) => `# ${n}\n`).join('')
  if (view === 'containers') {
    const head = ['namespace', 'pod', 'container', ...USAGE_HEAD, ...(wide ? [...WIDE_HEAD, 'container id'] : [])]
    const rows = containerRows(report, sort).map(({pod, container}) => [safe(pod.namespace), safe(pod.name ?? pod.uid), safe(container.name ?? container.id.slice(0, 13)), ...usageCells(container, wide), ...(wide ? [container.id] : [])])
    return notes + columns(head, rows)
  }
  const head = ['namespace', 'pod', ...USAGE_HEAD, ...(wide ? [...WIDE_HEAD, 'qos', 'uid'] : [])]
  const rows = report.pods.map((p) => [safe(p.namespace), safe(p.name ?? p.uid), ...usageCells(p, wide, worstThrottled(p)), ...(wide ? [p.qosClass, p.uid] : [])])
  return notes + columns(head, rows)
}

/** `events`: one row per event, oldest first; -o wide adds the evidence. With -w, one stream keeps later rows in line. */
export function eventsStream(wide: boolean): (events: UsageEvent[], first: boolean) => string {
  const stream = new ColumnStream(['time', 'namespace', 'pod', 'container', 'reason', 'message', ...(wide ? ['evidence'] : [])])
  return (events, first) => {
    if (events.length === 0) return first ? 'No events.\n' : ''
    return stream.write(events.map((e) => [
      e.time ? e.time.replace(/\.\d+Z$/, 'Z') : undefined,
      safe(e.pod.namespace),
      safe(e.pod.name ?? e.pod.uid),
      safe(e.container?.name ?? e.container?.id?.slice(0, 13) ?? null),
      e.reason,
      terminalSafe(e.message),
      ...(wide ? [terminalSafe(e.evidence.join(' | '))] : []),
    ]))
  }
}
