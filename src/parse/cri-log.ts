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

interface CriHeader {
  time: string
  unixNano: bigint
  stream: LogStream
  partial: boolean
  /** where the text starts in the buffer (its end when there is none) */
  textStart: number
}

const SPACE = 0x20
const NEWLINE = 0x0a
const STDOUT = Buffer.from('stdout')
const STDERR = Buffer.from('stderr')

// The header is ASCII: read it off the bytes, so that the text after it stays bytes until the
// fragments of a split line are joined (a runtime splits at a byte count, mid-character).
// Offsets into the file's buffer, no Buffer per line: a log is read a million lines at a time.
function parseHeader(data: Buffer, start: number, end: number): CriHeader {
  const a = data.indexOf(SPACE, start)
  const b = a < 0 || a >= end ? -1 : data.indexOf(SPACE, a + 1)
  const c = b < 0 || b >= end ? -1 : data.indexOf(SPACE, b + 1)
  if (a < 0 || a >= end || b < 0 || b >= end) throw new CriLogError('not a CRI log line (want "<time> <stdout|stderr> <P|F> <text>")')
  // "<time> <stream> <tag>" with an empty message may have no trailing space
  const tagEnd = c < 0 || c >= end ? end : c
  const time = data.toString('latin1', start, Math.min(a, start + 64))
  const unixNano = a - start <= 64 ? parseRfc3339Nano(time) : undefined
  if (unixNano === undefined) throw new CriLogError(`time "${time.slice(0, 40)}" is not RFC3339`)
  const stream = b - a - 1 !== 6 ? undefined : data.compare(STDOUT, 0, 6, a + 1, b) === 0 ? 'stdout' : data.compare(STDERR, 0, 6, a + 1, b) === 0 ? 'stderr' : undefined
  if (stream === undefined) throw new CriLogError(`stream "${data.toString('latin1', a + 1, Math.min(b, a + 21))}" is neither stdout nor stderr`)
  const tag = data[b + 1]
  const tagOk = (tag === 0x50 || tag === 0x46) && (tagEnd === b + 2 || data[b + 2] === 0x3a)
  if (!tagOk) throw new CriLogError(`tag "${data.toString('latin1', b + 1, Math.min(tagEnd, b + 21)).split(':')[0]}" is neither P nor F`)
  return {time, unixNano, stream, partial: tag === 0x50, textStart: tagEnd === end ? end : tagEnd + 1}
}

/** One CRI log line; throws CriLogError naming the field that is wrong. */
export function parseCriLine(line: string | Buffer): CriLogLine {
  const bytes = typeof line === 'string' ? Buffer.from(line, 'utf8') : line
  const {textStart, ...header} = parseHeader(bytes, 0, bytes.length)
  return {...header, text: bytes.toString('utf8', textStart)}
}

export interface BadLine {
  /** 1-based line number within the text given to the joiner. */
  line: number
  message: string
}

/**
 * Joins P fragments to their F, per stream (a runtime splits stdout and stderr independently).
 * Fragments are joined as bytes, then decoded: containerd splits long lines every 16 KiB of
 * bytes, and a character cut in two must come back whole, not as two U+FFFD.
 * Feed lines as they arrive; flush() at EOF hands back fragments still open.
 */
export class CriLogJoiner {
  private readonly open = new Map<LogStream, {first: CriHeader; parts: Buffer[]}>()
  private lineNo = 0
  readonly bad: BadLine[] = []

  /** Line numbers in bad[] restart at 1 for each new file; open fragments carry over. */
  startFile(): void {
    this.lineNo = 0
  }

  push(raw: string | Buffer): LogEntry[] {
    const line = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw
    return this.pushBytes(line, 0, line.length)
  }

  /** The line data[start, end) (no newline). */
  pushBytes(data: Buffer, start: number, end: number): LogEntry[] {
    this.lineNo++
    if (end > start && data[end - 1] === 0x0d) end--
    if (end === start) return []
    let header: CriHeader
    try {
      header = parseHeader(data, start, end)
    } catch (error) {
      this.bad.push({line: this.lineNo, message: (error as Error).message})
      return []
    }
    const pending = this.open.get(header.stream)
    if (header.partial) {
      const text = data.subarray(header.textStart, end)
      if (pending) pending.parts.push(text)
      else this.open.set(header.stream, {first: header, parts: [text]})
      return []
    }
    if (!pending) return [{time: header.time, unixNano: header.unixNano, stream: header.stream, text: data.toString('utf8', header.textStart, end), incomplete: false}]
    this.open.delete(header.stream)
    return [{time: pending.first.time, unixNano: pending.first.unixNano, stream: header.stream, text: Buffer.concat([...pending.parts, data.subarray(header.textStart, end)]).toString('utf8'), incomplete: false}]
  }

  /** Every line of data (a last line without its newline included). */
  pushAll(data: Buffer, out: LogEntry[]): void {
    let start = 0
    for (let nl = data.indexOf(NEWLINE); nl >= 0; nl = data.indexOf(NEWLINE, start)) {
      for (const entry of this.pushBytes(data, start, nl)) out.push(entry)
      start = nl + 1
    }
    if (start < data.length) for (const entry of this.pushBytes(data, start, data.length)) out.push(entry)
  }

  /** Fragments no F closed, as entries of their own, oldest first. */
  flush(): LogEntry[] {
    const out = [...this.open.values()].map(({first, parts}) => ({
      time: first.time, unixNano: first.unixNano, stream: first.stream, text: Buffer.concat(parts).toString('utf8'), incomplete: true,
    }))
    this.open.clear()
    return out.sort((x, y) => (x.unixNano < y.unixNano ? -1 : x.unixNano > y.unixNano ? 1 : 0))
  }
}

/** A whole CRI log file: entries in file order, open P fragments shown at the end, bad lines listed. */
export function parseCriLog(text: string | Buffer): {entries: LogEntry[]; bad: BadLine[]} {
  const joiner = new CriLogJoiner()
  const entries: LogEntry[] = []
  joiner.pushAll(typeof text === 'string' ? Buffer.from(text, 'utf8') : text, entries)
  for (const entry of joiner.flush()) entries.push(entry)
  return {entries, bad: joiner.bad}
}
