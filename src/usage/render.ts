import {columns, tableOptions} from '../output/table.js'
import {type SortKey, containerRows, worstThrottled} from './select.js'
import type {DocumentShape} from '../output/output.js'
import type {PodUsage, PodUsageReport, Usage, UsageEvent} from './types.js'

/** What `top` prints per sample: the report, its time the envelope's capturedAt. */
export type UsageDocument = Omit<PodUsageReport, 'time'>

export const USAGE_DOCUMENT: DocumentShape<UsageDocument> = {
  kind: 'PodUsage',
  items: (d) => d.items,
  withItems: (d, items) => ({...d, items: items as PodUsage[]}),
  name: (p: PodUsage) => `pod/${p.namespace ?? ''}/${p.name ?? p.uid}`,
}

/** What `events` prints: all it found, then (-w) one list per interval that has events. */
export const EVENT_DOCUMENT: DocumentShape<UsageEvent[]> = {kind: 'EventList'}

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
// the output layer hands table views records with every string escaped (src/output/escape.ts)
const safe = (text: string | null) => text ?? undefined

/**
 * A row's numbers; `throttledBy`: whose throttling a pod row shows (the worst of the pod cgroup
 * and its containers). The default table fits 80 columns: pids and the limits are in -o wide.
 */
function usageCells(u: Usage, wide: boolean, throttledBy: Usage = u): Array<string | number | undefined> {
  const head = [cores(u.cpu.cores), percent(u.cpu.percentOfLimit), memory(u.memory.workingSetBytes), percent(u.memory.percentOfLimit), throttled(throttledBy)]
  if (!wide) return [...head, u.oomKills ?? undefined]
  return [...head, pids(u), u.oomKills ?? undefined, cores(u.cpu.limitCores), memory(u.memory.rssBytes), memory(u.memory.limitBytes), seconds(throttledBy.throttling.throttledSeconds)]
}

const USAGE_HEAD = ['cpu', 'cpu%', 'memory', 'mem%', 'throttled', 'oom']
const WIDE_HEAD = ['cpu', 'cpu%', 'memory', 'mem%', 'throttled', 'pids', 'oom', 'cpu limit', 'rss', 'mem limit', 'throttled time']

/** `top`: one row per pod, or per container with `containers` (its namespace in -o wide, for room). */
export function usageTable(report: UsageDocument, wide: boolean, view: 'pods' | 'containers', sort?: SortKey): string {
  const notes = report.notes.map((n) => `# ${n}\n`).join('')
  if (view === 'containers') {
    const head = wide ? ['namespace', 'pod', 'container', ...WIDE_HEAD, 'container id'] : ['pod', 'container', ...USAGE_HEAD]
    const rows = containerRows(report, sort).map(({pod, container}) => [
      ...(wide ? [safe(pod.namespace)] : []),
      safe(pod.name ?? pod.uid),
      safe(container.name ?? container.id.slice(0, 13)),
      ...usageCells(container, wide),
      ...(wide ? [container.id] : []),
    ])
    return notes + columns(head, rows)
  }
  const head = ['namespace', 'pod', ...(wide ? [...WIDE_HEAD, 'qos', 'uid'] : USAGE_HEAD)]
  const rows = report.items.map((p) => [safe(p.namespace), safe(p.name ?? p.uid), ...usageCells(p, wide, worstThrottled(p)), ...(wide ? [p.qosClass, p.uid] : [])])
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
      e.message,
      ...(wide ? [e.evidence.join(' | ')] : []),
    ]))
  }
}

/**
 * kubectl-style columns for rows that arrive over time (`-w`): each batch is padded to the
 * widest cell seen so far, so later rows line up with the header unless a cell outgrows it.
 */
class ColumnStream {
  private widths: number[]
  private headed = false

  constructor(private readonly head: string[]) {
    this.widths = head.map((h) => h.length)
  }

  /** The rows, one line each, after the header the first time (unless --no-headers). */
  write(rows: Array<Array<string | number | undefined | null>>): string {
    const cells = rows.map((row) => row.map((cell) => (cell === undefined || cell === null || cell === '' ? '-' : String(cell))))
    for (const row of cells) row.forEach((cell, i) => (this.widths[i] = Math.max(this.widths[i] ?? 0, cell.length)))
    const line = (row: string[]) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(this.widths[i]))).join('   ').trimEnd() + '\n'
    const header = this.headed || !tableOptions.headers ? '' : line(this.head.map((h) => h.toUpperCase()))
    this.headed = true
    return header + cells.map(line).join('')
  }
}
