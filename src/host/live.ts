import {spawn} from 'node:child_process'
import {join} from 'node:path'
import * as execa from 'execa'
import {absorb, texts} from './errors.js'
import {type DirEntry, type EntryKind, type FedListeners, type FedProgram, type FileStat, type Host, OutputTooLargeError, type ReadOptions, type RunOptions, type RunResult, type StreamOptions, type StreamResult, RUN_TIMEOUT_MS, Warnings, tailFrom} from './host.js'
import {lstatInRoot, readDirInRoot, readFileInRoot, readFilesInRoot, readLinkInRoot, resolveInRoot} from './in-root.js'
import {type RootReader, liveRootReader} from './root-reader.js'
import {spawnFed} from './fed.js'
import {takeFile, takeRun, takeStream} from './early.js'

// /proc/<pid>/root and /cwd are the kernel's doors into a process's own root: what lies behind
// them is resolved inside that root, so a container's absolute links stay in the container
const PROCESS_ROOT = /^\/+proc\/+(\d+|self|thread-self)\/+(root|cwd)(?=\/|$)/

/**
 * The running machine, seen under a root prefix: "/" on the node itself, "/host" in
 * `kubectl debug node/...`. Every path is resolved inside that root (src/host/in-root.ts): a
 * link a pod planted, or a ".." read from a file a pod controls, never leads out of it, and only
 * regular files are read, each up to a cap. Programs run here, in this process's namespaces: a
 * debug pod needs hostNetwork for `ip` and `iptables-save` to see the node's tables.
 */
export class LiveHost implements Host {
  readonly warnings = new Warnings()
  readonly description: string

  constructor(readonly root = '/') {
    this.description = `live ${root}`
  }

  /** The root a host path is resolved in, and the path inside it. */
  private place(path: string): [string, string] {
    const inProcess = PROCESS_ROOT.exec(path)
    if (!inProcess) return [this.root, path]
    const door = `${this.root === '/' ? '' : this.root.replace(/\/+$/, '')}/proc/${inProcess[1]}/${inProcess[2]}`
    return [door, path.slice(inProcess[0].length) || '/']
  }

  // synchronous: a scan reads thousands of small /proc files, where a promise per
  // open/stat/read/close costs more than the read itself
  private bytes(path: string, options: ReadOptions): Buffer {
    const [root, inside] = this.place(path)
    if (options.tailBytes === undefined) return readFileInRoot(root, inside, {maxBytes: options.maxBytes})
    return tailFrom(readFileInRoot(root, inside, {tailBytes: options.tailBytes + 1, maxBytes: options.maxBytes}), options.tailBytes)
  }

  async readFile(path: string, options: ReadOptions = {}): Promise<string | undefined> {
    // read by the launcher before it started a live svc NAME's programs (src/host/early.ts)
    const early = this.root === '/' && options.tailBytes === undefined ? takeFile(path) : undefined
    if (early !== undefined) return early
    try {
      return this.bytes(path, options).toString('utf8')
    } catch (error) {
      return absorb(error, path, this.warnings)
    }
  }

  async readFiles(dirs: string[], names: string[]): Promise<Array<Array<string | undefined>>> {
    // a folder inside a process's own root is read name by name, each in that root
    if (dirs.some((dir) => PROCESS_ROOT.test(dir))) return Promise.all(dirs.map((dir) => Promise.all(names.map((name) => this.readFile(`${dir}/${name}`)))))
    const read = readFilesInRoot(this.root, dirs, names)
    const out = new Array<Array<string | undefined>>(read.length)
    for (let i = 0; i < read.length; i++) out[i] = texts(read[i], dirs[i], names, this.warnings)
    return out
  }

  answer(_name: string, ask: () => Promise<string | undefined>): Promise<string | undefined> {
    return ask()
  }

  async readBytes(path: string, options: ReadOptions = {}): Promise<Buffer | undefined> {
    try {
      return this.bytes(path, options)
    } catch (error) {
      return absorb(error, path, this.warnings)
    }
  }

  async readDir(path: string): Promise<DirEntry[] | undefined> {
    try {
      // synchronous, as readFile: a scan lists /proc and every process's task and fd folders
      const entries = readDirInRoot(...this.place(path))
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
      return readLinkInRoot(...this.place(path))
    } catch (error) {
      // EINVAL: not a link; a normal answer, not a problem
      if ((error as NodeJS.ErrnoException).code === 'EINVAL') return undefined
      return absorb(error, path, this.warnings)
    }
  }

  async stat(path: string): Promise<FileStat | undefined> {
    try {
      const s = lstatInRoot(...this.place(path))
      const kind: EntryKind = s.isSymbolicLink() ? 'link' : s.isDirectory() ? 'dir' : s.isFile() ? 'file' : 'other'
      const stat: FileStat = {kind, size: s.size, mtimeMs: Math.trunc(s.mtimeMs), ino: s.ino}
      // 0 where the filesystem keeps no birth time (statx without STATX_BTIME)
      if (s.birthtimeMs > 0) stat.birthtimeMs = Math.trunc(s.birthtimeMs)
      return stat
    } catch (error) {
      return absorb(error, path, this.warnings)
    }
  }

  async run(argv: string[], options: RunOptions = {}): Promise<RunResult | undefined> {
    const [file, ...args] = argv
    const timeout = options.timeoutMs ?? RUN_TIMEOUT_MS
    // started before the CLI loaded (src/host/early.ts): its answer, unless its output was too large
    const taken = options.input === undefined ? takeRun(argv, timeout) : undefined
    const early = taken ? await taken : null
    if (early !== null) {
      if (early === undefined) return undefined
      if (early.timedOut) {
        this.warnings.add(`timeout:${file}`, `timed out after ${timeout} ms`, argv.join(' '))
        return undefined
      }
      return {stdout: early.stdout ?? '', stderr: early.stderr, exitCode: early.exitCode}
    }
    const result = await execa.execa(file, args, {
      reject: false,
      timeout,
      ...(options.input === undefined ? {stdin: 'ignore' as const} : {input: options.input}),
      env: {LC_ALL: 'C'},
    })
    if ((result as {code?: string}).code === 'ENOENT') return undefined
    if (result.timedOut) {
      this.warnings.add(`timeout:${file}`, `timed out after ${timeout} ms`, argv.join(' '))
      return undefined
    }
    return {stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? ''), exitCode: result.exitCode ?? 1}
  }

  /** A program fed on its stdin while it runs, in this process's namespaces (src/host/fed.ts). */
  feed(argv: string[], listeners: FedListeners): FedProgram {
    return spawnFed(argv, listeners)
  }

  /**
   * stdout as the pipe gives it (Buffers, no decoding, nothing kept here), counted against the
   * cap; past it the program is stopped. stderr as run() gives it.
   */
  async stream(argv: string[], onData: (chunk: Buffer) => void, options: StreamOptions): Promise<StreamResult | undefined> {
    const [file, ...args] = argv
    const timeout = options.timeoutMs ?? RUN_TIMEOUT_MS
    let bytes = 0
    let over = false
    let stop = () => undefined as unknown
    const take = (chunk: Buffer) => {
      if (over) return
      bytes += chunk.length
      if (bytes <= options.maxBytes) return onData(chunk)
      over = true
      stop()
    }
    // started before the CLI loaded (src/host/early.ts): what it printed so far comes at once
    const early = takeStream(argv, timeout, take)
    let result: {code?: string; timedOut?: boolean; stderr?: string | Uint8Array; exitCode?: number} | undefined
    if (early) {
      stop = early.kill
      if (over) stop()
      result = (await early.done) ?? {code: 'ENOENT'}
    } else {
      const subprocess = execa.execa(file, args, {reject: false, timeout, stdin: 'ignore', env: {LC_ALL: 'C'}, encoding: 'buffer', buffer: {stdout: false}})
      stop = () => subprocess.kill()
      subprocess.stdout.on('data', take)
      result = await subprocess
    }
    if (result.code === 'ENOENT') return undefined
    if (over) throw new OutputTooLargeError(file, options.maxBytes)
    if (result.timedOut) {
      this.warnings.add(`timeout:${file}`, `timed out after ${timeout} ms`, argv.join(' '))
      return undefined
    }
    // its final newline already left out, as run() leaves it out
    return {stderr: typeof result.stderr === 'string' ? result.stderr : Buffer.from(result.stderr ?? '').toString('utf8'), exitCode: result.exitCode ?? 1}
  }

  /**
   * The root's own path is resolved inside this host's root first (a layer folder reached
   * through a planted link stays under --host-root); /proc/<pid>/root is the kernel's door.
   */
  inRoot(root: string): RootReader {
    const [base, inside] = this.place(root)
    return liveRootReader(() => (inside === '/' ? base : join(base, resolveInRoot(base, inside))))
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
