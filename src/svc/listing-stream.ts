// `iptables-nft -t TABLE -S CHAIN` listings run by long-lived lister processes that nodedoc
// starts once and feeds chain by chain as the walk finds them: each listing is then a start of a
// small program by a small shell, not a fork of nodedoc's own large process (8-80 ms of its event
// loop each on a busy 2-core machine). The lister is a fixed `sh` script (LISTER) reading one
// `TABLE CHAIN` line per listing from its stdin and running them one after another, so the
// listings come out one after another, never interleaved.
//
// Several chains of one table can also go as one batch to one `PROGRAM-restore --noflush`
// (iptables-nft-restore): its `-S CHAIN` lines are each what `PROGRAM -t TABLE -S CHAIN` prints,
// one after another, from one process start instead of one each (10 small chains: ~17 ms of CPU
// against ~100). It changes nothing: with only `-S` lines it sends the kernel the same empty
// batch as `iptables-nft -S`, and --noflush (always there: the script's own text) keeps it from
// flushing the table. It stops at the first chain it cannot show (not there, or a rule it cannot
// read): the chains before it printed whole, that one nothing, exit 1, as its own listing would.
//
// Where one batch of listings ends: after each batch nodedoc writes an `end` line, for which the
// shell prints MARKER with a builtin (no program runs); every line of a `-S` listing starts with
// -P, -N or -A (or "#" for the legacy-tables warning), and a chain that is not there prints
// nothing on stdout. A batch whose text is not that (a line of neither kind, a chain not asked
// for, a listing that could not run or was killed) is garbled: that stream is dropped and its
// listings are asked for one by one.

import type {Host, FedProgram, RunResult} from '../host/host.js'
import {type LineFilter, tableChains} from './iptables-path.js'

/** The line that ends a batch: not a line any `-S` listing prints (none starts with a letter). */
const MARKER = 'nodedoc: end of batch'
const MARKER_LINE = `${MARKER}\n`

/** The line after a restore batch that exited non-zero, with its exit code (not garbage: the batch is read as far as it went). */
const RESTORE_EXIT = 'nodedoc: restore exit'
const RESTORE_EXIT_LINE = new RegExp(`^${RESTORE_EXIT} (\\d+)\\n$`)

/**
 * The lister: a fixed script, data only on its stdin, each field a quoted variable (a chain name
 * is one argument to the program whatever it holds: no expansion, no word splitting, no glob).
 * A listing that could not run (126, 127: not there) or was killed (128 and up) prints a line
 * that garbles its batch. `$1` is the program (iptables-nft, ip6tables-nft). One line, so that
 * the launcher's shell can take it as one argument (src/host/spawner.ts).
 */
const LISTER = [
  'p=$1; r=$1-restore; set -f;',
  'while read -r t c; do',
  `if [ "$t" = end ]; then printf '%s\\n' '${MARKER}'; continue; fi;`,
  // `restore TABLE CHAIN...`: the chains (restorableChain: no blank, quote or glob) as words
  `if [ "$t" = restore ]; then set -- $c; t=$1; shift; { printf '*%s\\n' "$t"; printf -- '-S %s\\n' "$@"; echo COMMIT; } | "$r" --noflush || printf '${RESTORE_EXIT} %s\\n' "$?"; continue; fi;`,
  'if [ -n "$c" ]; then "$p" -t "$t" -S "$c"; else "$p" -t "$t" -S; fi;',
  `[ $? -lt 126 ] || printf '%s\\n' 'nodedoc: a listing failed';`,
  'done',
].join(' ')

/** The argv of a lister of PROGRAM's listings (its $0 names it in the shell's own messages). */
export function listerArgv(program: string): string[] {
  return ['sh', '-c', LISTER, 'nodedoc-lister', program]
}

/** More than this between two markers is not a listing of chains (30k services' KUBE-SERVICES is ~4 MiB). */
const MAX_BATCH_CHARS = 64 << 20

/** One batch's stdout, up to its marker line; garbled: it held a line no listing prints. */
export interface BatchText {
  text: string
  garbled: boolean
  /** a filtered batch's (ListingReader): whether its text before the filter held more than blanks */
  filled?: boolean
}

/** A line no `-S` listing prints (neither -P/-N/-A nor "#"): the marker, or garbage. */
const ODD_LINE = /^[^-#\n][^\n]*\n/gm

/**
 * Cuts a stream's stdout into batches at the marker lines, whatever the pieces it arrives in.
 * Only the odd lines are looked at one by one (a regular expression finds them). A batch with a
 * filter (pathLines: KUBE-SERVICES of 10k services, 1.4 MB of 10k lines in 22 pieces) keeps only
 * the lines its filter keeps, piece by piece as they come, and is looked at only in those; its
 * end is found by the marker's text.
 */
export class ListingReader {
  private partial = ''
  private pieces: string[] = []
  private chars = 0
  private garbled = false
  private filled = false

  constructor(private readonly maxChars = MAX_BATCH_CHARS) {}

  /** The batches a piece of stdout completes, in order; filters[i]: the filter of the i-th batch to end from here. */
  push(chunk: string, filters: ReadonlyArray<LineFilter | undefined> = []): BatchText[] {
    if (!chunk.includes('\n')) {
      // a line still going on: no scan of what came before
      this.partial += chunk
      if (this.partial.length > this.maxChars) this.overflow()
      return []
    }
    const done: BatchText[] = []
    const text = this.partial + chunk
    const whole = text.lastIndexOf('\n') + 1
    this.partial = text.slice(whole)
    for (let start = 0; start < whole;) {
      const filter = filters[done.length]
      const end = filter ? markerLine(text, start, whole) : oddLines(text, start, whole, () => (this.garbled = true))
      this.count(end - start)
      // a garbled batch's text is of no use: not kept
      if (!this.garbled && end > start) {
        let piece = text.slice(start, end)
        if (filter) {
          this.filled ||= /\S/.test(piece)
          piece = filter(piece)
          // the filter keeps every odd line: only those are looked at
          oddLines(piece, 0, piece.length, () => (this.garbled = true))
        }
        if (piece && !this.garbled) this.pieces.push(piece)
      }
      if (end === whole) break
      const batch: BatchText = {text: this.garbled ? '' : this.pieces.join(''), garbled: this.garbled}
      if (filter && !this.garbled) batch.filled = this.filled
      done.push(batch)
      this.pieces = []
      this.chars = 0
      this.garbled = false
      this.filled = false
      start = end + MARKER.length + 1
    }
    if (this.partial.length > this.maxChars) this.overflow()
    return done
  }

  private count(chars: number): void {
    this.chars += chars
    if (this.chars > this.maxChars) this.overflow()
  }

  /** More than a listing can be: garbled, and nothing of it kept. */
  private overflow(): void {
    this.garbled = true
    this.pieces = []
    this.partial = ''
  }
}

/** Where the first marker line in text[start, whole) starts; whole when there is none. */
function markerLine(text: string, start: number, whole: number): number {
  for (let at = text.indexOf(MARKER_LINE, start); at >= 0 && at < whole; at = text.indexOf(MARKER_LINE, at + 1)) {
    if (at === start || text[at - 1] === '\n') return at
  }
  return whole
}

/** Where the first marker line in text[start, whole) starts, each other odd line told to odd(); whole when there is none. */
function oddLines(text: string, start: number, whole: number, odd: () => void): number {
  ODD_LINE.lastIndex = start
  for (let m = ODD_LINE.exec(text); m && m.index < whole; m = ODD_LINE.exec(text)) {
    if (m[0] === MARKER_LINE) return m.index
    // restoreListings reads it, and refuses it anywhere but last
    if (!RESTORE_EXIT_LINE.test(m[0])) odd()
  }
  return whole
}

/**
 * The lister's input listing chains of a table (`TABLE CHAIN` lines), or the whole table (a
 * `TABLE` line), then the line that ends the batch.
 */
export function batchInput(table: string, chains: string[] | null): string {
  const lines = chains ? chains.map((chain) => `${table} ${chain}\n`) : [`${table}\n`]
  return lines.join('') + 'end\n'
}

/** The lister's input listing chains of a table by one restore (restorableChain's names, at least one), then the line that ends the batch. */
export function restoreInput(table: string, chains: string[]): string {
  return `restore ${table} ${chains.join(' ')}\nend\n`
}

/**
 * A chain name restore's line parser reads as one word, as it is: letters, digits and `_.-+@:`,
 * not starting with `-` (restore splits on blanks, reads quotes and backslashes, and refuses a
 * word starting with one `-` that holds a `t`); nothing the lister's shell would glob.
 */
export function restorableChain(chain: string): boolean {
  return /^[A-Za-z0-9_.+@:][A-Za-z0-9_.+@:-]*$/.test(chain)
}

/** What one restore batch told: the chains it listed, and those still to ask (after the one it stopped at). */
export interface RestoreRead {
  listed: Map<string, RunResult>
  rest: string[]
}

/**
 * A restore batch's text: every chain asked listed (exit 0); or, exit 1, the chains before the
 * one it stopped at, listed whole and in order, that one as its own listing would be (exit 1,
 * nothing on stdout: not there, or not one iptables can show) and the rest still to ask.
 * 'failed': another exit (a line it could not parse: 2; no restore program: 127), or exit 1 after
 * every chain: nothing learnt. undefined: garbled (a chain not asked for, out of order, or a
 * chain missing from a run that exited 0).
 */
export function restoreListings(text: string, chains: string[]): RestoreRead | 'failed' | undefined {
  const exitAt = text.lastIndexOf(RESTORE_EXIT)
  const exitLine = exitAt >= 0 ? RESTORE_EXIT_LINE.exec(text.slice(exitAt)) : null
  if (exitAt >= 0 && (!exitLine || (exitAt > 0 && text[exitAt - 1] !== '\n') || text.indexOf(RESTORE_EXIT) !== exitAt)) return undefined
  const exit = exitLine ? Number(exitLine[1]) : 0
  const listed = tableChains(exitAt >= 0 ? text.slice(0, exitAt) : text)
  const names = [...listed.keys()]
  if (names.some((name, i) => name !== chains[i])) return undefined
  if (exit === 0) return names.length === chains.length ? {listed: new Map([...listed].map(([c, stdout]) => [c, {stdout, stderr: '', exitCode: 0}])), rest: []} : undefined
  if (exit !== 1 || names.length === chains.length) return 'failed'
  const read = new Map<string, RunResult>([...listed].map(([c, stdout]) => [c, {stdout, stderr: '', exitCode: 0}]))
  read.set(chains[names.length], {stdout: '', stderr: '', exitCode: 1})
  return {listed: read, rest: chains.slice(names.length + 1)}
}

/** A chain name that can go on the lister's input as one field (no blank or line break), and that does not read as an option. */
export function streamableChain(chain: string): boolean {
  return /^[^\s\0-][^\s\0]*$/.test(chain)
}

/**
 * A batch's text as each chain's own `-S CHAIN` listing, as a run of its own would give it (a
 * chain that is not there: exit 1, nothing on stdout); undefined when the text holds a chain
 * that was not asked for.
 */
export function batchListings(text: string, chains: string[], filled = text.trim() !== ''): Map<string, RunResult> | undefined {
  const absent: RunResult = {stdout: '', stderr: '', exitCode: 1}
  if (chains.length === 1) {
    // one chain (KUBE-SERVICES: 10k lines): its text as it is, once no line names another chain
    const [chain] = chains
    if (!filled) return new Map([[chain, absent]])
    const other = new RegExp(`^(?!-[PNA] ${chain.replace(/[^\w-]/g, '\\$&')}(?: |$)|#|$)`, 'm')
    return other.test(text) ? undefined : new Map([[chain, {stdout: text, stderr: '', exitCode: 0}]])
  }
  const listed = tableChains(text)
  for (const chain of listed.keys()) if (!chains.includes(chain)) return undefined
  return new Map(chains.map((chain) => {
    const stdout = listed.get(chain)
    return [chain, stdout === undefined ? absent : {stdout, stderr: '', exitCode: 0}]
  }))
}

/**
 * A listing's weight in a stream's queue, about its time at 10k services: KUBE-SERVICES ~10x a
 * small chain, a whole table (every chain of the family fetched) ~5x, KUBE-NODEPORTS ~2x.
 */
function weight(chain: string | null): number {
  return chain === 'KUBE-SERVICES' ? 8 : chain === null ? 4 : chain === 'KUBE-NODEPORTS' ? 2 : 1
}

/** A restore batch's weight: one process start, and a little for each small chain. */
function restoreWeight(chains: string[]): number {
  return 2 + chains.length / 4
}

/** Restores one batch of chains may take (each after the one before stopped at a chain not there) before the rest go one by one. */
const MAX_RESTORES = 3

interface Batch {
  weight: number
  /** the lines kept of its listing (one chain's, pathLines) */
  filter?: LineFilter
  timer: ReturnType<typeof setTimeout>
  done(text: BatchText | undefined): void
}

interface Lane {
  stream: FedProgram
  reader: ListingReader
  waiting: Batch[]
  load: number
  alive: boolean
}

export const STREAM_TIMEOUT_MS = 10_000

/** Up to this many chains asked for at once go to one stream, as one batch (a service's endpoints are shared out). */
const SPLIT_ABOVE = 6

/**
 * A few lister streams (listerArgv), started at once (while nodedoc is still small, so each
 * start is cheap), each batch of listings sent to the least busy one. undefined from a listing:
 * not had this way (no stream, it ended, timed out or printed what no listing prints): the caller
 * asks one by one, as without streams.
 */
export class ListingStreams {
  private readonly lanes: Lane[] = []

  private constructor(private readonly host: Host, private readonly program: string, size: number, private readonly timeoutMs: number) {
    for (let i = 0; i < size; i++) {
      const reader = new ListingReader()
      const lane: Lane = {stream: undefined as unknown as FedProgram, reader, waiting: [], load: 0, alive: true}
      lane.stream = host.feed!(listerArgv(program), {
        stdout: (chunk) => {
          for (const batch of reader.push(chunk, lane.waiting.map((b) => b.filter))) {
            const next = lane.waiting.shift()
            if (!next) return this.drop(lane)
            lane.load -= next.weight
            next.done(batch)
            if (batch.garbled) return this.drop(lane)
          }
        },
        exit: () => this.drop(lane),
      })
      this.lanes.push(lane)
    }
  }

  /** undefined when the host cannot keep a program running (a snapshot). */
  static open(host: Host, program: string, size: number, timeoutMs = STREAM_TIMEOUT_MS): ListingStreams | undefined {
    return host.feed ? new ListingStreams(host, program, size, timeoutMs) : undefined
  }

  /**
   * Each chain's `-t TABLE -S CHAIN` listing, shared out over the streams by their queues. filter:
   * for one chain, the lines of its listing kept (pathLines), as the listing comes.
   */
  async list(table: string, chains: string[], filter?: LineFilter): Promise<Map<string, RunResult> | undefined> {
    if (!chains.every(streamableChain)) return undefined
    const shares = new Map<Lane, string[]>()
    const load = new Map(this.lanes.filter((l) => l.alive).map((l) => [l, l.load]))
    if (load.size === 0) return undefined
    // a few chains go together (one marker run); more (a service's endpoints) are shared out
    const split = chains.length > SPLIT_ABOVE
    for (let i = 0; i < chains.length;) {
      const lane = [...load].reduce((a, b) => (b[1] < a[1] ? b : a))[0]
      const share = split ? [chains[i++]] : chains.slice(i, (i = chains.length))
      load.set(lane, load.get(lane)! + share.reduce((n, c) => n + weight(c), 0))
      shares.set(lane, [...(shares.get(lane) ?? []), ...share])
    }
    const parts = await Promise.all([...shares].map(async ([lane, share]) => {
      const batch = await this.send(lane, table, share, chains.length === 1 ? filter : undefined)
      return batch && !batch.garbled ? batchListings(batch.text, share, batch.filled) : undefined
    }))
    if (parts.some((p) => p === undefined)) return undefined
    return new Map(parts.flatMap((p) => [...p!]))
  }

  /**
   * Each chain's `-t TABLE -S CHAIN` listing, as list() gives it, through one restore batch on the
   * least busy stream: a chain that stops it is had as not there, and the chains after it go to
   * the next restore; past MAX_RESTORES, for a last chain alone, and for a name restore would not
   * read as it is, list(). undefined: not had this way (a restore that failed otherwise, no
   * stream): the caller asks its own way.
   */
  async restore(table: string, chains: string[]): Promise<Map<string, RunResult> | undefined> {
    const names = [...new Set(chains)]
    // a name restore would not read as it is goes one by one, as before
    const odd = names.filter((chain) => !restorableChain(chain))
    const had = new Map<string, RunResult>()
    let rest = names.filter(restorableChain)
    for (let tries = 0; rest.length > 1 && tries < MAX_RESTORES; tries++) {
      const lane = this.lanes.filter((l) => l.alive).sort((a, b) => a.load - b.load)[0]
      const batch = lane && (await this.send(lane, table, rest, undefined, true))
      if (!batch || batch.garbled) return undefined
      const read = restoreListings(batch.text, rest)
      if (read === 'failed') return undefined
      if (!read) {
        // out of step: nothing more of this stream is trusted
        this.drop(lane)
        return undefined
      }
      for (const [chain, listing] of read.listed) had.set(chain, listing)
      rest = read.rest
    }
    rest = [...rest, ...odd]
    if (rest.length === 0) return had
    const more = await this.list(table, rest)
    return more && new Map([...had, ...more])
  }

  /** Ends every stream: an idle one by closing its input, one with listings still waiting (they get undefined) at once. */
  close(): void {
    for (const lane of this.lanes) this.drop(lane, lane.waiting.length === 0)
  }

  private send(lane: Lane, table: string, chains: string[] | null, filter?: LineFilter, restore = false): Promise<BatchText | undefined> {
    if (!lane.alive) return Promise.resolve(undefined)
    return new Promise((resolve) => {
      const batch: Batch = {
        filter,
        weight: restore && chains ? restoreWeight(chains) : chains ? chains.reduce((n, c) => n + weight(c), 1) : weight(null) + 1,
        timer: setTimeout(() => {
          this.host.warnings.add(`svc:stream:${this.program}`, `${this.program} listings through sh gave no answer within ${this.timeoutMs / 1000} s: listed one by one instead`)
          this.drop(lane)
        }, this.timeoutMs),
        done: (text) => {
          clearTimeout(batch.timer)
          resolve(text)
        },
      }
      lane.waiting.push(batch)
      lane.load += batch.weight
      lane.stream.write(restore && chains ? restoreInput(table, chains) : batchInput(table, chains))
    })
  }

  private drop(lane: Lane, idle = false): void {
    if (lane.alive) {
      lane.alive = false
      if (idle) lane.stream.close()
      else lane.stream.kill()
    }
    for (const batch of lane.waiting.splice(0)) batch.done(undefined)
    lane.load = 0
  }
}
