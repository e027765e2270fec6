// Programs started before the CLI has loaded (bin/run.js, for a live `svc NAME`: src/svc/early.ts),
// handed to the LiveHost call that would have started them: run(), stream() and feed() take an
// early one whose argv is the same instead of starting their own. Node and oclif take ~0.2-0.5 s
// to load on a busy node; the listings and saves run meanwhile, and each start is a fork of a
// small process rather than of the loaded CLI. Read-only programs only; what is not taken by the
// time nodedoc exits is killed then, as fed programs are.
//
// The launcher's copy of this module and the command's (two bundle files) share one registry,
// kept on globalThis.

import {type ChildProcess, spawn} from 'node:child_process'
import {readFileSync, statSync} from 'node:fs'
import {RUN_TIMEOUT_MS, stripFinalNewline} from './host.js'
import {type ShellFeed, startThroughShell} from './spawner.js'

/** What to start: each entry as the LiveHost call that will take it would start it. */
export interface EarlyPlan {
  /** run(argv): stdout and stderr kept as text (the default time-out); started by one shell with the feeds (src/host/spawner.ts) */
  runs?: EarlyStart[]
  /** stream(argv, …, {timeoutMs}): stdout kept as Buffers until taken */
  streams?: Array<EarlyStart & {timeoutMs: number}>
  /**
   * feed(argv), and what its first writes will be (written now, skipped when the taker writes the
   * same); `first`: started before the others (the critical path), taken in plan order all the same
   */
  feeds?: Array<EarlyStart & {writes: string[]; first?: boolean}>
}

export interface EarlyStart {
  argv: string[]
  /** start only when this file can be read and holds more than blanks (a /proc/net/*_tables_names) */
  whenListed?: string
  /** with whenListed: start only when that file lists this table, a line of its own (naming a table not loaded to the kernel would load its module) */
  whenTable?: string
  /** start only when this file lists nothing, or cannot be read (whenListed's opposite) */
  unlessListed?: string
  /** start only when this path exists (/proc/net/ip_vs) */
  whenExists?: string
}

/** run() and stream()'s answer; undefined: the program is not there (ENOENT). */
export interface EarlyExit {
  stdout?: string
  stderr: string
  exitCode: number
  timedOut: boolean
}

interface Started {
  child: ChildProcess
  done: Promise<EarlyExit | undefined>
  kill(): void
}

interface EarlyRun {
  timeoutMs: number
  /** its answer; null: none to hand over (the output passed run()'s limit, or the shell that started it ended first) */
  done: Promise<EarlyExit | undefined | null>
  kill(): void
  /** whether it keeps nodedoc running (once taken) */
  hold(on: boolean): void
  /** handed to run() already: once only (killed at exit all the same, if still going) */
  taken?: boolean
}

interface EarlyStream extends Started {
  timeoutMs: number
  pieces: Buffer[]
  onData?: (chunk: Buffer) => void
}

export interface EarlyFeed {
  write(text: string): void
  /** closes its stdin */
  end(): void
  /** ends its process group (the lister and its run in progress) */
  kill(): void
  /** whether it keeps nodedoc running */
  hold(on: boolean): void
  /** writes made early and not yet matched by the taker's */
  pending: string[]
  /** stdout (utf8) before the taker listens */
  out: string[]
  onStdout?: (chunk: string) => void
  /** set once the program has ended (undefined: it could not start) */
  exit?: {code: number | null | undefined}
  onExit?: (code: number | null | undefined) => void
}

interface Registry {
  runs: Map<string, EarlyRun>
  streams: Map<string, EarlyStream>
  feeds: Map<string, EarlyFeed[]>
  /** the files the plan's conditions read, by path: their text then (takeFile) */
  files: Map<string, string>
}

const KEY = Symbol.for('nodedoc.early-programs')

function registry(): Registry | undefined {
  return (globalThis as Record<symbol, Registry | undefined>)[KEY]
}

const keyOf = (argv: string[]) => argv.join('\0')

/** A run's output past this is not taken (execa's buffer limit in run()). */
const RUN_MAX_BYTES = 100 * 1024 * 1024

const ENV = () => ({...process.env, LC_ALL: 'C'})

/** The conditions' files, each read once: its text, or undefined where it cannot be read. */
type Read = Map<string, string | undefined>

/** Whether the file can be read and holds more than blanks; undefined: it cannot be read. */
function listed(path: string, read: Read): boolean | undefined {
  if (!read.has(path)) {
    try {
      read.set(path, readFileSync(path, 'utf8'))
    } catch {
      read.set(path, undefined)
    }
  }
  const text = read.get(path)
  return text === undefined ? undefined : text.trim() !== ''
}

function allowed(start: EarlyStart, read: Read): boolean {
  if (start.unlessListed !== undefined && listed(start.unlessListed, read)) return false
  // not there, or unreadable: the command decides later, as without an early start
  if (start.whenListed !== undefined && !listed(start.whenListed, read)) return false
  if (start.whenListed !== undefined && start.whenTable !== undefined && !read.get(start.whenListed)!.split('\n').some((line) => line.trim() === start.whenTable)) return false
  try {
    if (start.whenExists !== undefined) statSync(start.whenExists)
    return true
  } catch {
    return false
  }
}

/**
 * Whether the program (and its pipes) keep nodedoc running: not before it is taken, so a run that
 * ends before it needs them (a usage error) exits at once, killing them.
 */
export function hold(child: ChildProcess, on: boolean): void {
  for (const handle of [child, child.stdin, child.stdout, child.stderr]) {
    const h = handle as {ref?: () => void; unref?: () => void} | null
    if (on) h?.ref?.()
    else h?.unref?.()
  }
}

/** The program's exit as run() reports it, killed (SIGTERM) past timeoutMs. */
function watch(child: ChildProcess, timeoutMs: number, stdout: (() => string) | undefined): Started {
  const stderr: Buffer[] = []
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk))
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    child.kill('SIGTERM')
  }, timeoutMs)
  timer.unref()
  const done = new Promise<EarlyExit | undefined>((resolve) => {
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (child.pid !== undefined) return
      clearTimeout(timer)
      // ENOENT: not installed, as run() says; another failure to start: exit 1 with its message, as execa
      resolve(error.code === 'ENOENT' ? undefined : {stdout: stdout && '', stderr: error.message, exitCode: 1, timedOut: false})
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({stdout: stdout?.(), stderr: stripFinalNewline(Buffer.concat(stderr).toString('utf8')), exitCode: code ?? 1, timedOut})
    })
  })
  let exited = false
  done.then(() => (exited = true))
  hold(child, false)
  return {child, done, kill: () => void (exited || child.kill('SIGTERM'))}
}

function startRun(argv: string[]): EarlyRun {
  const child = spawn(argv[0], argv.slice(1), {stdio: ['ignore', 'pipe', 'pipe'], env: ENV()})
  const out: Buffer[] = []
  let bytes = 0
  let spoiled = false
  child.stdout!.on('data', (chunk: Buffer) => {
    bytes += chunk.length
    if (bytes <= RUN_MAX_BYTES) return void out.push(chunk)
    if (spoiled) return
    spoiled = true
    out.length = 0
    child.kill('SIGTERM')
  })
  const started = watch(child, RUN_TIMEOUT_MS, () => stripFinalNewline(Buffer.concat(out).toString('utf8')))
  // past run()'s limit: not an answer to hand over
  return {kill: started.kill, hold: (on) => hold(child, on), timeoutMs: RUN_TIMEOUT_MS, done: started.done.then((exit) => (spoiled ? null : exit))}
}

function startStream(argv: string[], timeoutMs: number): EarlyStream {
  const child = spawn(argv[0], argv.slice(1), {stdio: ['ignore', 'pipe', 'pipe'], env: ENV()})
  const stream = {timeoutMs, pieces: []} as unknown as EarlyStream
  child.stdout!.on('data', (chunk: Buffer) => (stream.onData ? stream.onData(chunk) : stream.pieces.push(chunk)))
  return Object.assign(stream, watch(child, timeoutMs, undefined))
}

/** A fed program (src/host/fed.ts's spawnFed takes it), with these first writes made now. */
export function startFeed(argv: string[], writes: string[]): EarlyFeed {
  // in a process group of its own, as src/host/fed.ts starts one
  const child = spawn(argv[0], argv.slice(1), {stdio: ['pipe', 'pipe', 'ignore'], env: ENV(), detached: true})
  const feed = fedFrom(child.stdin!, child.stdout!, writes, {
    kill: () => killGroup(child),
    hold: (on) => hold(child, on),
  })
  child.on('close', (code) => feed.ended(code))
  child.on('error', () => {
    if (child.pid === undefined) feed.ended(undefined)
  })
  if (child.pid !== undefined) for (const text of writes) child.stdin!.write(text)
  hold(child, false)
  return feed
}

/** A lister the spawner's shell started (src/host/spawner.ts), with these first writes made now. */
function shellFed(lister: ShellFeed, writes: string[]): EarlyFeed {
  const feed = fedFrom(lister.stdin, lister.stdout, writes, lister)
  lister.done.then((code) => feed.ended(code))
  for (const text of writes) lister.stdin.write(text)
  return feed
}

function fedFrom(stdin: NodeJS.WritableStream, stdout: NodeJS.ReadableStream, writes: string[], group: {kill(): void; hold(on: boolean): void}): EarlyFeed & {ended(code: number | null | undefined): void} {
  const feed: EarlyFeed & {ended(code: number | null | undefined): void} = {
    pending: [...writes],
    out: [],
    write: (text) => void stdin.write(text),
    end: () => void stdin.end(),
    kill: () => group.kill(),
    hold: (on) => group.hold(on),
    ended: (code) => {
      if (feed.exit) return
      feed.exit = {code}
      feed.onExit?.(code)
    },
  }
  stdin.on('error', () => undefined)
  stdout.setEncoding('utf8')
  stdout.on('data', (chunk: string) => (feed.onStdout ? feed.onStdout(chunk) : feed.out.push(chunk)))
  return feed
}

/** Kills the group of a fed program (the lister and its run in progress). */
function killGroup(child: ChildProcess): void {
  child.stdin?.end()
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  try {
    process.kill(-child.pid, 'SIGTERM')
  } catch {
    // the group is gone already
  }
}

/**
 * Starts what the plan names (each entry whose condition holds). Whatever is still running when
 * nodedoc exits is killed then.
 */
export function startEarly(plan: EarlyPlan): void {
  let reg = registry()
  if (!reg) {
    const made: Registry = {runs: new Map(), streams: new Map(), feeds: new Map(), files: new Map()}
    ;(globalThis as Record<symbol, Registry>)[KEY] = reg = made
    process.once('exit', () => {
      for (const run of [...made.runs.values(), ...made.streams.values()]) run.kill()
      for (const feeds of made.feeds.values()) for (const feed of feeds) feed.kill()
    })
  }
  // every condition read before anything starts: a legacy save holds the kernel's lock on the
  // legacy tables while it fetches them (0.5 s at 10k services), and a names file read meanwhile
  // waits; what was read is kept for the command's own read of the same file (takeFile)
  const read: Read = new Map()
  const streams = (plan.streams ?? []).filter((start) => allowed(start, read))
  const feeds = (plan.feeds ?? []).filter((start) => allowed(start, read))
  const runs = (plan.runs ?? []).filter((start) => allowed(start, read))
  for (const [path, text] of read) if (text !== undefined) reg.files.set(path, text)
  // the saves first: on the legacy backend they are the critical path
  for (const start of streams) reg.streams.set(keyOf(start.argv), startStream(start.argv, start.timeoutMs))
  // the one marked first from here (started by the time spawn() returns: a shell's starts all
  // run at once, in no set order), the other listers and the runs through one shell where it can
  const started = new Map<(typeof feeds)[number], EarlyFeed>()
  for (const start of feeds.filter((f) => f.first)) started.set(start, startFeed(start.argv, start.writes))
  const later = feeds.filter((f) => !f.first)
  const argvs = runs.map((start) => start.argv)
  const shell = startThroughShell({feeds: later.map((f) => f.argv), runs: argvs}, ENV(), RUN_TIMEOUT_MS, RUN_MAX_BYTES)
  later.forEach((start, i) => started.set(start, shell ? shellFed(shell.feeds[i], start.writes) : startFeed(start.argv, start.writes)))
  for (const start of feeds) {
    const key = keyOf(start.argv)
    reg.feeds.set(key, [...(reg.feeds.get(key) ?? []), started.get(start)!])
  }
  const earlyRuns = shell ? shell.runs.map((run) => ({...run, timeoutMs: RUN_TIMEOUT_MS})) : argvs.map(startRun)
  earlyRuns.forEach((run, i) => reg.runs.set(keyOf(argvs[i]), run))
}

/**
 * readFile(path)'s answer from the launcher's read of that file before it started anything,
 * once; undefined: none. A /proc/net/ip*_tables_names read after a legacy save has started
 * blocks Node's thread until the save has copied the tables out (0.5-0.6 s at 10k services):
 * the launcher's read, made a moment before, is the answer a read now would have been then.
 */
export function takeFile(path: string): string | undefined {
  const files = registry()?.files
  const text = files?.get(path)
  files?.delete(path)
  return text
}

/**
 * run(argv)'s answer from an early start of the same argv, once; undefined: none (start it now).
 * It resolves to null where the output passed run()'s limit: run it again the usual way.
 */
export function takeRun(argv: string[], timeoutMs: number): Promise<EarlyExit | undefined | null> | undefined {
  const reg = registry()
  const run = reg?.runs.get(keyOf(argv))
  if (!run || run.taken || run.timeoutMs !== timeoutMs) return undefined
  run.taken = true
  run.hold(true)
  return run.done
}

/**
 * stream(argv)'s early start, once: its stdout so far is handed to onData at once, the rest as
 * it comes. kill() stops it (the cap). undefined: none.
 */
export function takeStream(argv: string[], timeoutMs: number, onData: (chunk: Buffer) => void): {done: Promise<EarlyExit | undefined>; kill(): void} | undefined {
  const reg = registry()
  const stream = reg?.streams.get(keyOf(argv))
  if (!stream || stream.onData || stream.timeoutMs !== timeoutMs) return undefined
  for (const piece of stream.pieces.splice(0)) onData(piece)
  stream.onData = onData
  hold(stream.child, true)
  return {done: stream.done, kill: stream.kill}
}

/** feed(argv)'s early start, once each (the first started first); undefined: none. */
export function takeFeed(argv: string[]): EarlyFeed | undefined {
  const feed = registry()?.feeds.get(keyOf(argv))?.shift()
  feed?.hold(true)
  return feed
}
