import {closeSync, fstatSync, lstatSync, openSync, readFileSync, readSync, readdirSync, readlinkSync} from 'node:fs'
import {spawn} from 'node:child_process'
import * as execa from 'execa'
import {absorb} from './errors.js'
import {type RootReader, liveRootReader} from './in-root.js'
import {type DirEntry, type EntryKind, type FileStat, type Host, type ReadOptions, type RunOptions, type RunResult, Warnings, hostPath} from './host.js'

const DEFAULT_TIMEOUT_MS = 10_000

/**
 * The running machine, seen under a root prefix: "/" on the node itself, "/host" in
 * `kubectl debug node/...`. Programs run here, in this process's namespaces: a debug pod
 * needs hostNetwork for `ip` and `iptables-save` to see the node's tables.
 */
export class LiveHost implements Host {
  readonly warnings = new Warnings()
  readonly description: string

  constructor(readonly root = '/') {
    this.description = `live ${root}`
  }

  private real(path: string): string {
    return this.root === '/' ? hostPath(path) : hostPath(this.root, path)
  }

  async readFile(path: string, options: ReadOptions = {}): Promise<string | undefined> {
    try {
      // synchronous: a scan reads thousands of small /proc files, where a promise per
      // open/stat/read/close costs more than the read itself
      if (options.tailBytes === undefined) return readFileSync(this.real(path), 'utf8')
      return readTail(this.real(path), options.tailBytes)
    } catch (error) {
      return absorb(error, path, this.warnings)
    }
  }

  answer(_name: string, ask: () => Promise<string | undefined>): Promise<string | undefined> {
    return ask()
  }

  async readBytes(path: string): Promise<Buffer | undefined> {
    try {
      return readFileSync(this.real(path))
    } catch (error) {
      return absorb(error, path, this.warnings)
    }
  }

  async readDir(path: string): Promise<DirEntry[] | undefined> {
    try {
      // synchronous, as readFile: a scan lists /proc and every process's task and fd folders
      const entries = readdirSync(this.real(path), {withFileTypes: true})
      return entries.map((e) => ({
        name: e.name,
        kind: e.isSymbolicLink() ? 'link' : e.isDirectory() ? 'dir' : e.isFile() ? 'file' : 'other',
      }))
    } catch (error) {
      return absorb(error, path, this.warnings)
    }
  }

  async readLink(path: string): Promise<string | undefined> {
    try {
      // synchronous, as readFile: a scan reads every process's ns/* and fd links
      return readlinkSync(this.real(path))
    } catch (error) {
      // EINVAL: not a link; a normal answer, not a problem
      if ((error as NodeJS.ErrnoException).code === 'EINVAL') return undefined
      return absorb(error, path, this.warnings)
    }
  }

  async stat(path: string): Promise<FileStat | undefined> {
    try {
      const s = lstatSync(this.real(path))
      const kind: EntryKind = s.isSymbolicLink() ? 'link' : s.isDirectory() ? 'dir' : s.isFile() ? 'file' : 'other'
      return {kind, size: s.size, mtimeMs: Math.trunc(s.mtimeMs), ino: s.ino}
    } catch (error) {
      return absorb(error, path, this.warnings)
    }
  }

  async run(argv: string[], options: RunOptions = {}): Promise<RunResult | undefined> {
    const [file, ...args] = argv
    const result = await execa.execa(file, args, {
      reject: false,
      timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      stdin: 'ignore',
      env: {LC_ALL: 'C'},
    })
    if ((result as {code?: string}).code === 'ENOENT') return undefined
    if (result.timedOut) {
      this.warnings.add(`timeout:${file}`, `timed out after ${options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`, argv.join(' '))
      return undefined
    }
    return {stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? ''), exitCode: result.exitCode ?? 1}
  }

  inRoot(root: string): RootReader {
    return liveRootReader(this.real(root))
  }

  /**
   * The user's program on the user's terminal. Ctrl-C reaches the whole foreground group, the
   * program included: nodedoc waits for it to finish (tcpdump prints its summary) instead of
   * dying first; a TERM sent to nodedoc alone is passed on.
   */
  exec(argv: string[]): Promise<number | undefined> {
    return new Promise((resolve) => {
      const child = spawn(argv[0], argv.slice(1), {stdio: 'inherit'})
      const ignore = () => undefined
      const forward = () => child.kill('SIGTERM')
      process.on('SIGINT', ignore)
      process.on('SIGTERM', forward)
      const finish = (code: number | undefined) => {
        process.off('SIGINT', ignore)
        process.off('SIGTERM', forward)
        resolve(code)
      }
      child.on('error', (error: NodeJS.ErrnoException) => finish(error.code === 'ENOENT' ? undefined : 126))
      child.on('close', (code, signal) => finish(code ?? 128 + (signal ? (SIGNAL_NUMBERS[signal] ?? 1) : 1)))
    })
  }
}

const SIGNAL_NUMBERS: Record<string, number> = {SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGPIPE: 13, SIGTERM: 15}

// synchronous like every other read here (a tail is a few KiB); nothing on a command's path
// then needs fs/promises, the thread pool or a promise per step
function readTail(path: string, bytes: number): string {
  const fd = openSync(path, 'r')
  try {
    const {size} = fstatSync(fd)
    const start = Math.max(0, size - bytes)
    const buffer = Buffer.alloc(size - start)
    readSync(fd, buffer, 0, buffer.length, start)
    let text = buffer.toString('utf8')
    // a tail starts mid-line: drop the partial first line
    if (start > 0) text = text.slice(text.indexOf('\n') + 1)
    return text
  } finally {
    closeSync(fd)
  }
}
