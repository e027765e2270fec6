import type {Host} from '../host/host.js'
import {CriLogJoiner, type LogEntry, type LogStream} from '../parse/cri-log.js'
import {instanceFiles, type PodLogFile, type PodLogs} from '../parse/log-files.js'
import {NodedocError} from '../errors.js'
import {LogFollower} from './follow.js'
import {gatherPodLogs} from '../pods/log-files.js'
import {type FileBadLine, type LogFilter, readInstance, readInstanceTail, selectEntries} from './read.js'
import {type PodQuery, findPodLogs, pickContainer} from './select.js'
import type {DocumentShape} from '../output/output.js'

export interface LogsQuery extends PodQuery {
  container?: string
  previous: boolean
  filter: LogFilter
}

/** What `nodedoc logs -o json` prints. */
export interface LogsReport {
  pod: {namespace: string | null; name: string | null; uid: string}
  container: string
  restart: number
  files: string[]
  entries: Array<{time: string; stream: LogStream; text: string; incomplete: boolean}>
}

export interface LogsPlan {
  pod: PodLogs
  container: string
  containerDir: string
  restart: number
  files: PodLogFile[]
}

/** Which pod, container, instance and files a `logs` call reads. */
export async function planLogs(host: Host, query: LogsQuery): Promise<LogsPlan> {
  const pod = findPodLogs(await gatherPodLogs(host), query)
  const container = pickContainer(pod, query.container)
  const instance = instanceFiles(container, query.previous)
  const label = `${pod.namespace ?? '?'}/${pod.name ?? pod.uid}`
  if (!instance) {
    throw new NodedocError(query.previous
      ? `previous terminated container "${container.name}" in pod ${label} not found (no log of an earlier restart)`
      : `container "${container.name}" in pod ${label} has no log files`)
  }
  const containerDir = instance.files[0].path.slice(0, instance.files[0].path.lastIndexOf('/'))
  return {pod, container: container.name, containerDir, restart: instance.restart, files: instance.files}
}

function report(plan: LogsPlan, entries: LogEntry[]): LogsReport {
  return {
    pod: {namespace: plan.pod.namespace, name: plan.pod.name, uid: plan.pod.uid},
    container: plan.container,
    restart: plan.restart,
    files: plan.files.map((f) => f.path),
    entries: entries.map(({time, stream, text, incomplete}) => ({time, stream, text, incomplete})),
  }
}

function warnBad(host: Host, bad: FileBadLine[]): void {
  // line 0: found in a tail window, where line numbers are unknown
  for (const b of bad) host.warnings.add(`cri:${b.path}`, 'lines not in CRI log format skipped', `${b.path}${b.line > 0 ? `:${b.line}` : ' (near the end)'}: ${b.message}`)
}

/** A container instance's log, read once. */
export async function readLogs(host: Host, query: LogsQuery): Promise<LogsReport> {
  const plan = await planLogs(host, query)
  const {tail, sinceUnixNano, stream} = query.filter
  const {entries, bad} = tail !== undefined && sinceUnixNano === undefined ? await readInstanceTail(host, plan.files, tail, stream) : await readInstance(host, plan.files)
  warnBad(host, bad)
  return report(plan, selectEntries(entries, query.filter))
}

/**
 * `-f`: prints what is there (after --since/--tail), then each new entry as it is written,
 * until signal aborts. Rotated files are read in full; the live one is handed to the follower.
 */
export async function followLogs(host: Host, query: LogsQuery, print: (entry: LogEntry) => void, options: {pollMs: number; signal?: AbortSignal}): Promise<LogsPlan> {
  const plan = await planLogs(host, query)
  // pre-1.14 kubelets neither rotated nor named files <restart>.log: follow those with tail -F
  if (plan.pod.layout === 'legacy') throw new NodedocError(`-f: ${plan.pod.path} uses the pre-1.14 layout (<container>_<restart>.log); follow it with tail -F ${plan.files.at(-1)!.path}`)
  const joiner = new CriLogJoiner()
  const rotated = plan.files.filter((f) => f.rotatedAt !== null)
  const {entries, bad} = await readInstance(host, rotated, joiner, false)
  warnBad(host, bad)
  const live: LogEntry[] = [...entries]
  const streamOnly = query.filter.stream ?? 'all'
  // first into `live` (so --tail/--since see it all), then straight to print
  let sink = (entry: LogEntry) => void live.push(entry)
  const follower = new LogFollower(host, plan.containerDir, plan.restart, joiner, {
    pollMs: options.pollMs,
    signal: options.signal,
    emit: (entry) => sink(entry),
    onBadLine: (path, message) => host.warnings.add(`cri:${path}`, 'lines not in CRI log format skipped', `${path}: ${message}`),
  })
  await follower.start()
  for (const entry of selectEntries(live, query.filter)) print(entry)
  sink = (entry) => {
    if (streamOnly === 'all' || entry.stream === streamOnly) print(entry)
  }
  await follower.run()
  return plan
}

/** `logs -o json`: one Log document; its records are the entries. */
export const LOG_DOCUMENT: DocumentShape<LogsReport> = {
  kind: 'Log',
  items: (r) => r.entries,
  withItems: (r, entries) => ({...r, entries: entries as LogsReport['entries']}),
}
