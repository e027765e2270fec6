import {readGzipBytes} from '../host/gzip.js'
import type {Host} from '../host/host.js'
import {type BadLine, CriLogJoiner, type LogEntry, type LogStream, parseCriLog} from '../parse/cri-log.js'
import type {PodLogFile} from '../parse/log-files.js'

export interface FileBadLine extends BadLine {
  path: string
}

/** Bytes of one log file, decompressing rotated `.gz` ones (decoded only after P fragments are joined). undefined when it vanished. */
export async function readLogFile(host: Host, file: PodLogFile): Promise<Buffer | undefined> {
  if (file.compressed) return readGzipBytes(host, file.path)
  if (host.readBytes) return host.readBytes(file.path)
  const text = await host.readFile(file.path)
  return text === undefined ? undefined : Buffer.from(text, 'utf8')
}

/**
 * One container instance's files, oldest first, through one joiner: a P fragment at the end of
 * a rotated file is closed by the F at the start of the next.
 */
export async function readInstance(host: Host, files: PodLogFile[], joiner = new CriLogJoiner(), flush = true): Promise<{entries: LogEntry[]; bad: FileBadLine[]}> {
  const entries: LogEntry[] = []
  const bad: FileBadLine[] = []
  for (const file of files) {
    const data = await readLogFile(host, file)
    if (data === undefined) continue
    const seen = joiner.bad.length
    joiner.startFile()
    joiner.pushAll(data, entries)
    for (const b of joiner.bad.slice(seen)) bad.push({...b, path: file.path})
  }
  if (flush) entries.push(...joiner.flush())
  return {entries, bad}
}

export interface LogFilter {
  /** Only entries at or after this time (ns since the epoch). */
  sinceUnixNano?: bigint
  /** Only the last N entries. */
  tail?: number
  stream?: LogStream | 'all'
}

/** Merge by time (stable: equal times keep file order), then --stream, --since, --tail. */
export function selectEntries(entries: LogEntry[], filter: LogFilter): LogEntry[] {
  let out = entries
    .map((e, i) => [e, i] as const)
    .sort(([a, i], [b, j]) => (a.unixNano < b.unixNano ? -1 : a.unixNano > b.unixNano ? 1 : i - j))
    .map(([e]) => e)
  if (filter.stream && filter.stream !== 'all') out = out.filter((e) => e.stream === filter.stream)
  if (filter.sinceUnixNano !== undefined) out = out.filter((e) => e.unixNano >= filter.sinceUnixNano!)
  if (filter.tail !== undefined && filter.tail >= 0) out = filter.tail === 0 ? [] : out.slice(-filter.tail)
  return out
}

/** kubectl's look: the text, or with timestamps "<time> <text>". */
export function formatEntry(entry: Pick<LogEntry, 'time' | 'text'>, timestamps: boolean): string {
  return timestamps ? `${entry.time} ${entry.text}` : entry.text
}

/**
 * --tail N without --since: read from the newest end only. The live file is read in growing
 * tail windows, then whole older files, until more than N entries are in hand (the oldest one
 * may be the tail of a P line cut at the window's edge, so it must fall outside the N).
 */
export async function readInstanceTail(host: Host, files: PodLogFile[], tail: number, stream: LogFilter['stream'] = 'all'): Promise<{entries: LogEntry[]; bad: FileBadLine[]}> {
  const enough = (entries: LogEntry[]) => entries.filter((e) => stream === 'all' || e.stream === stream).length > tail
  const newest = files.at(-1)
  if (newest && !newest.compressed && newest.sizeBytes > 0) {
    for (let window = Math.max(64 * 1024, tail * 256); window < newest.sizeBytes; window *= 4) {
      const data = host.readBytes ? await host.readBytes(newest.path, {tailBytes: window}) : await host.readFile(newest.path, {tailBytes: window})
      if (data === undefined) break
      const {entries, bad} = parseCriLog(data)
      if (enough(entries)) return {entries, bad: bad.map((b) => ({...b, path: newest.path, line: 0}))}
    }
  }
  for (let from = files.length - 1; from >= 0; from--) {
    const result = await readInstance(host, files.slice(from))
    if (enough(result.entries) || from === 0) return result
  }
  return {entries: [], bad: []}
}
