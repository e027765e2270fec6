// The one seam between nodedoc and the machine it inspects. Everything that reads a file,
// lists a directory, reads a link or runs a program goes through a Host; parsers and models
// only ever see the text it returns.

import {NodedocError} from '../errors.js'
import type {RootReader} from './root-reader.js'

export type EntryKind = 'file' | 'dir' | 'link' | 'other'

export interface DirEntry {
  name: string
  kind: EntryKind
}

export interface FileStat {
  kind: EntryKind
  size: number
  mtimeMs: number
  ino: number
  /** When the file was made, where the filesystem records it (statx btime): a new N.log's is its container's start. */
  birthtimeMs?: number
}

export interface RunResult {
  stdout: string
  stderr: string
  exitCode: number
}

export interface ReadOptions {
  /** Only the last N bytes (log tails); a partial first line is dropped. */
  tailBytes?: number
  /** Refuse a larger file (default: src/host/in-root.ts DEFAULT_MAX_BYTES). */
  maxBytes?: number
}

export interface RunOptions {
  timeoutMs?: number
  /** Text on the program's stdin (else none). A snapshot neither records nor replays such a run. */
  input?: string
}

/**
 * A program nodedoc keeps running and feeds on its stdin (a long-lived lister shell, src/svc/listing-stream.ts), so that many
 * short runs cost nodedoc one process start: see LiveHost.feed.
 */
export interface FedProgram {
  /** Text for the program's stdin; ignored once it has ended. */
  write(text: string): void
  /** Ends its stdin; SIGTERM if it still runs a moment later. Safe to call again. */
  close(): void
  /** SIGTERM now (its runs too). Safe to call again. */
  kill(): void
}

export interface FedListeners {
  /** Each piece of stdout as it comes (UTF-8; stderr is not kept). */
  stdout(chunk: string): void
  /** Once, after the last stdout: its exit code, null when killed, undefined when it could not start. */
  exit(code: number | null | undefined): void
}

export interface StreamOptions {
  timeoutMs?: number
  /** Past this many bytes of stdout the program is stopped and OutputTooLargeError thrown. */
  maxBytes: number
}

/** A streamed run's end: its stdout went to the caller piece by piece. */
export interface StreamResult {
  stderr: string
  exitCode: number
}

/** A program printed more than the caller reads: one line naming it (exit 3: the node could not be read). */
export class OutputTooLargeError extends NodedocError {
  constructor(program: string, maxBytes: number) {
    super(`${program} printed more than ${maxBytes / 1024 / 1024} MiB: nodedoc reads at most that much of a program's output`, 3)
  }
}

export interface Host {
  /** Human description: "live /", "live /host", "snapshot examples/kind-node". */
  readonly description: string
  readonly warnings: Warnings
  /** Text of a host-absolute path; undefined when it does not exist (or the process vanished). */
  readFile(path: string, options?: ReadOptions): Promise<string | undefined>
  /**
   * The same files of several folders (every process's /proc/<pid>/{cgroup,status,cmdline}), as
   * readFile would read each, per folder in the order given; each folder's parent resolved once.
   * Optional: callers fall back to readFile.
   */
  readFiles?(dirs: string[], names: string[]): Promise<Array<Array<string | undefined>>>
  /** Raw bytes of a host-absolute path (compressed rotated logs); undefined when it does not exist. */
  readBytes?(path: string, options?: ReadOptions): Promise<Buffer | undefined>
  /**
   * An answer from a service the node runs (the CRI socket), by name. The live host asks; a
   * recording host also writes it down under answers/<name>; a snapshot host replays it.
   */
  answer?(name: string, ask: () => Promise<string | undefined>): Promise<string | undefined>
  /** The live root prefix ("/", "/host"); absent for a snapshot. */
  readonly root?: string
  readDir(path: string): Promise<DirEntry[] | undefined>
  readLink(path: string): Promise<string | undefined>
  /** lstat: a link is reported as a link. */
  stat(path: string): Promise<FileStat | undefined>
  /** undefined when the program is not installed (or not captured in a snapshot). */
  run(argv: string[], options?: RunOptions): Promise<RunResult | undefined>
  /**
   * Starts a program fed on its stdin while it runs (live only; a snapshot holds no such run).
   * Optional: callers fall back to one run() each.
   */
  feed?(argv: string[], listeners: FedListeners): FedProgram
  /**
   * run() for a program whose output is large (a 10k-service iptables-save is 27 MB): its stdout
   * handed to onData as bytes, piece by piece while it writes, never one string. Optional:
   * callers go through runStream(), which falls back to run().
   */
  stream?(argv: string[], onData: (chunk: Buffer) => void, options: StreamOptions): Promise<StreamResult | undefined>
  /**
   * A root filesystem inside this machine (a container's /proc/<pid>/root, a host path), every
   * path resolved inside it, never against the node's own root (src/host/in-root.ts).
   */
  inRoot?(root: string): RootReader
  /**
   * Runs a program with nodedoc's own stdin, stdout and stderr (the user's command, for
   * `enter`) and resolves to its exit code; undefined when it is not installed. Live only.
   */
  exec?(argv: string[]): Promise<number | undefined>
}

/**
 * Problems worth one line each on stderr. Repeated causes fold into one line, so a scan of
 * 3000 unreadable /proc entries says so once.
 */
export class Warnings {
  private readonly byKey = new Map<string, {message: string; count: number; example: string}>()

  add(key: string, message: string, example = ''): void {
    const seen = this.byKey.get(key)
    if (seen) seen.count++
    else this.byKey.set(key, {message, count: 1, example})
  }

  list(): string[] {
    return [...this.byKey.values()].map(({message, count, example}) =>
      count > 1 ? `${message} (${count} paths, e.g. ${example})` : example ? `${message}: ${example}` : message,
    )
  }
}

// a path with no empty, "." or ".." segment and no trailing slash is its own normal form
const NORMAL = /^(?:\/(?!\.\.?(?:\/|$))[^/]+)+$/
/**
 * The last `tailBytes` of data, starting at a line: data is either the whole file or its last
 * tailBytes + 1 bytes (the extra byte tells whether the cut fell at a line start).
 */
export function tailFrom(data: Buffer, tailBytes: number): Buffer {
  if (data.length <= tailBytes) return data
  const window = data.subarray(data.length - tailBytes - 1)
  if (window[0] === 0x0a) return window.subarray(1)
  const newline = window.indexOf(0x0a, 1)
  return window.subarray(newline < 0 ? 1 : newline + 1)
}

/**
 * A program's stdout piece by piece through host.stream where the host has it, else through
 * run() in one piece (its final newline stripped, as run() gives it); the same cap either way.
 */
export async function runStream(host: Host, argv: string[], onData: (chunk: Buffer) => void, options: StreamOptions): Promise<StreamResult | undefined> {
  if (host.stream) return host.stream(argv, onData, options)
  const result = await host.run(argv, {timeoutMs: options.timeoutMs})
  if (!result) return undefined
  const stdout = Buffer.from(result.stdout)
  if (stdout.length > options.maxBytes) throw new OutputTooLargeError(argv[0], options.maxBytes)
  if (stdout.length) onData(stdout)
  return {stderr: result.stderr, exitCode: result.exitCode}
}

/** How long run() lets a program take unless told otherwise (LiveHost, and what the launcher starts early). */
export const RUN_TIMEOUT_MS = 10_000

/** Text as run() gives a program's output: one final newline (LF or CRLF) left out. */
export function stripFinalNewline(text: string): string {
  if (text.endsWith('\r\n')) return text.slice(0, -2)
  return text.endsWith('\n') ? text.slice(0, -1) : text
}

/** The same files of several folders through host.readFiles where the host has it, else one readFile each. */
export function readFiles(host: Host, dirs: string[], names: string[]): Promise<Array<Array<string | undefined>>> {
  if (host.readFiles) return host.readFiles(dirs, names)
  return Promise.all(dirs.map((dir) => Promise.all(names.map((name) => host.readFile(`${dir}/${name}`)))))
}

/** Joins host-absolute paths without touching the filesystem. */
export function hostPath(...parts: string[]): string {
  // the common case (a root and a clean node path, thousands of times per `top` sample) skips the split
  const direct = parts.length === 2 && parts[1].startsWith('/') ? (parts[0] === '/' ? parts[1] : parts[0] + parts[1]) : parts.join('/')
  if (NORMAL.test(direct)) return direct
  const joined = parts.join('/').replace(/\/+/g, '/')
  const out: string[] = []
  for (const seg of joined.split('/')) {
    if (seg === '' || seg === '.') continue
    if (seg === '..') out.pop()
    else out.push(seg)
  }
  return '/' + out.join('/')
}

/** Resolves a link target read at linkPath into a host-absolute path. */
export function resolveLinkTarget(linkPath: string, target: string): string {
  if (target.startsWith('/')) return hostPath(target)
  return hostPath(linkPath, '..', target)
}
