// The CRI container log format the kubelet asks runtimes to write (containerd, CRI-O):
//   <RFC3339Nano time> <stdout|stderr> <tags> <text>
// tags are ":"-separated; the first is P (partial: the runtime split a long line) or F (full).

export type LogStream = 'stdout' | 'stderr'

/** One line of a CRI log file, as written. */
export interface CriLogLine {
  time: string
  /** Nanoseconds since the epoch; bigint because RFC3339Nano has more digits than a double. */
  unixNano: bigint
  stream: LogStream
  partial: boolean
  text: string
}

/** One line as the container printed it: P fragments joined to their F. */
export interface LogEntry {
  /** Time of the entry's first fragment, as the runtime wrote it. */
  time: string
  unixNano: bigint
  stream: LogStream
  text: string
  /** True for P fragments that no F ever closed (container still writing, or killed mid-line). */
  incomplete: boolean
}

export class CriLogError extends Error {}

const TIME_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|z|[+-]\d{2}:\d{2})$/

// Lines of one file share their date-to-second and zone: remember the last one's epoch second.
let lastSecondKey = ''
let lastSecondNanos = 0n

/** RFC3339 with up to nanosecond fraction and a Z or ±hh:mm offset, to nanoseconds since the epoch. */
export function parseRfc3339Nano(text: string): bigint | undefined {
  const m = TIME_RE.exec(text)
  if (!m) return undefined
  const [, y, mo, d, h, mi, s, frac, zone] = m
  const key = `${y}${mo}${d}${h}${mi}${s}${zone}`
  let base: bigint
  if (key === lastSecondKey) base = lastSecondNanos
  else {
    const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s))
    if (Number.isNaN(ms) || Number(mo) > 12 || Number(d) > 31 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 60) return undefined
    let offsetMinutes = 0
    if (zone !== 'Z' && zone !== 'z') {
      const sign = zone[0] === '-' ? -1 : 1
      offsetMinutes = sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)))
    }
    base = BigInt(ms - offsetMinutes * 60_000) * 1_000_000n
    lastSecondKey = key
    lastSecondNanos = base
  }
  return frac ? base + BigInt(frac.padEnd(9, '0')) : base
}

/** One CRI log line; throws CriLogError naming the field that is wrong. */
export function parseCriLine(line: string): CriLogLine {
  const a = line.indexOf(' ')
  const b = a < 0 ? -1 : line.indexOf(' ', a + 1)
  const c = b < 0 ? -1 : line.indexOf(' ', b + 1)
  // "<time> <stream> <tag>" with an empty message may have no trailing space
  const tagEnd = c < 0 ? line.length : c
  if (a < 0 || b < 0) throw new CriLogError('not a CRI log line (want "<time> <stdout|stderr> <P|F> <text>")')
  const time = line.slice(0, a)
  const unixNano = parseRfc3339Nano(time)
  if (unixNano === undefined) throw new CriLogError(`time "${time.slice(0, 40)}" is not RFC3339`)
  const stream = line.slice(a + 1, b)
  if (stream !== 'stdout' && stream !== 'stderr') throw new CriLogError(`stream "${stream.slice(0, 20)}" is neither stdout nor stderr`)
  const tag = line.slice(b + 1, tagEnd).split(':')[0]
  if (tag !== 'P' && tag !== 'F') throw new CriLogError(`tag "${tag.slice(0, 20)}" is neither P nor F`)
  return {time, unixNano, stream, partial: tag === 'P', text: c < 0 ? '' : line.slice(c + 1)}
}

export interface BadLine {
  /** 1-based line number within the text given to the joiner. */
  line: number
  message: string
}

/**
 * Joins P fragments to their F, per stream (a runtime splits stdout and stderr independently).
 * Feed lines as they arrive; flush() at EOF hands back fragments still open.
 */
export class CriLogJoiner {
  private readonly open = new Map<LogStream, {first: CriLogLine; parts: string[]}>()
  private lineNo = 0
  readonly bad: BadLine[] = []

  /** Line numbers in bad[] restart at 1 for each new file; open fragments carry over. */
  startFile(): void {
    this.lineNo = 0
  }

  push(raw: string): LogEntry[] {
    this.lineNo++
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw
    if (line === '') return []
    let record: CriLogLine
    try {
      record = parseCriLine(line)
    } catch (error) {
      this.bad.push({line: this.lineNo, message: (error as Error).message})
      return []
    }
    const pending = this.open.get(record.stream)
    if (record.partial) {
      if (pending) pending.parts.push(record.text)
      else this.open.set(record.stream, {first: record, parts: [record.text]})
      return []
    }
    if (!pending) return [{time: record.time, unixNano: record.unixNano, stream: record.stream, text: record.text, incomplete: false}]
    this.open.delete(record.stream)
    return [{time: pending.first.time, unixNano: pending.first.unixNano, stream: record.stream, text: pending.parts.join('') + record.text, incomplete: false}]
  }

  /** Fragments no F closed, as entries of their own, oldest first. */
  flush(): LogEntry[] {
    const out = [...this.open.values()].map(({first, parts}) => ({
      time: first.time, unixNano: first.unixNano, stream: first.stream, text: parts.join(''), incomplete: true,
    }))
    this.open.clear()
    return out.sort((x, y) => (x.unixNano < y.unixNano ? -1 : x.unixNano > y.unixNano ? 1 : 0))
  }
}

/** A whole CRI log file: entries in file order, open P fragments shown at the end, bad lines listed. */
export function parseCriLog(text: string): {entries: LogEntry[]; bad: BadLine[]} {
  const joiner = new CriLogJoiner()
  const entries: LogEntry[] = []
  const lines = text.split('\n')
  if (lines.at(-1) === '') lines.pop()
  for (const line of lines) entries.push(...joiner.push(line))
  entries.push(...joiner.flush())
  return {entries, bad: joiner.bad}
}
