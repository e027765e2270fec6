import {statSync} from 'node:fs'
import {absorb, texts} from './errors.js'
import {type DirEntry, type FileStat, type Host, type ReadOptions, type RunOptions, type RunResult, OutputTooLargeError, type StreamOptions, type StreamResult, Warnings, hostPath, tailFrom} from './host.js'
import {InRootError} from './in-root.js'
import {type SnapshotMeta, SnapshotError, type SnapshotStore, commandFileName, fsRelative} from './snapshot-layout.js'
import {TarStore} from './snapshot-archive.js'
import {DirStore} from './snapshot-folder.js'
import {SchemaError, parseExitCode, parseMeta, parseStats} from './snapshot-schema.js'

// A snapshot comes from anyone: a folder or an archive someone hands over. Nothing in it is
// trusted: every path is resolved inside the snapshot (links and ".." never lead out of it, an
// absolute link target means the captured node's "/", that is fs/), only regular files are
// read and each read is capped, an archive is read as a stream with caps on what it expands
// to, and its own files (meta.json, stat.json, exit codes) are checked against their schema.

export {SnapshotError}

/** Replays a captured node: the same reads give the same answers, with no machine behind them. */
export class SnapshotHost implements Host {
  readonly description: string

  private constructor(
    readonly warnings: Warnings,
    private readonly store: SnapshotStore,
    readonly meta: SnapshotMeta,
    private readonly stats: Record<string, FileStat>,
    private readonly source: string,
  ) {
    this.description = `snapshot ${source}`
  }

  static async open(source: string): Promise<SnapshotHost> {
    let isDir: boolean
    try {
      const s = statSync(source)
      if (!s.isDirectory() && !s.isFile()) throw new SnapshotError(`${source}: not a folder or a regular file`)
      isDir = s.isDirectory()
    } catch (error) {
      if (error instanceof SnapshotError) throw error
      const code = (error as NodeJS.ErrnoException).code
      throw new SnapshotError(`${source}: ${code === 'ENOENT' ? 'no such snapshot folder or archive' : (error as Error).message}`)
    }
    const warnings = new Warnings()
    const store = isDir ? DirStore.open(source) : TarStore.load(source, warnings)
    const own = (name: string) => {
      try {
        return store.read(name).toString('utf8')
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code
        if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
        throw new SnapshotError(`${source}/${name}: ${error instanceof InRootError ? error.message.slice(error.path.length + 2) : (error as Error).message}`)
      }
    }
    const metaText = own('meta.json')
    if (metaText === undefined) throw new SnapshotError(`${source}: no meta.json, not a nodedoc snapshot`)
    const statText = own('stat.json')
    let meta: SnapshotMeta
    let stats: Record<string, FileStat>
    try {
      meta = parseMeta(metaText, `${source}/meta.json`)
      stats = statText === undefined ? {} : parseStats(statText, `${source}/stat.json`)
    } catch (error) {
      if (error instanceof SchemaError) throw new SnapshotError(error.message)
      throw error
    }
    return new SnapshotHost(warnings, store, meta, stats, source)
  }

  private attempt<T>(path: string, work: () => T): T | undefined {
    try {
      return work()
    } catch (error) {
      return absorb(error, path, this.warnings)
    }
  }

  private bytes(path: string, options: ReadOptions): Buffer | undefined {
    const rel = fsRelative(hostPath(path))
    if (options.tailBytes === undefined) return this.attempt(path, () => this.store.read(rel))
    const data = this.attempt(path, () => this.store.read(rel, options.tailBytes! + 1))
    return data && tailFrom(data, options.tailBytes)
  }

  async readFile(path: string, options: ReadOptions = {}): Promise<string | undefined> {
    return this.bytes(path, options)?.toString('utf8')
  }

  async readFiles(dirs: string[], names: string[]): Promise<Array<Array<string | undefined>>> {
    if (!this.store.readMany) return Promise.all(dirs.map((dir) => Promise.all(names.map((name) => this.readFile(`${dir}/${name}`)))))
    let got: Array<Array<Buffer | Error>>
    try {
      got = this.store.readMany(dirs.map((dir) => fsRelative(hostPath(dir))), names)
    } catch (error) {
      // no fs/ folder at all: each name as readFile would have it
      got = dirs.map(() => names.map(() => error as Error))
    }
    const out = new Array<Array<string | undefined>>(got.length)
    for (let i = 0; i < got.length; i++) out[i] = texts(got[i], dirs[i], names, this.warnings)
    return out
  }

  async readBytes(path: string, options: ReadOptions = {}): Promise<Buffer | undefined> {
    return this.bytes(path, options)
  }

  async answer(name: string): Promise<string | undefined> {
    return this.attempt(`answers/${name}`, () => this.store.read(`answers/${name}`))?.toString('utf8')
  }

  async readDir(path: string): Promise<DirEntry[] | undefined> {
    return this.attempt(path, () => this.store.list(fsRelative(hostPath(path))))
  }

  async readLink(path: string): Promise<string | undefined> {
    try {
      return this.store.link(fsRelative(hostPath(path)))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EINVAL') return undefined
      return absorb(error, path, this.warnings)
    }
  }

  async stat(path: string): Promise<FileStat | undefined> {
    const key = hostPath(path)
    if (Object.hasOwn(this.stats, key)) return this.stats[key]
    // built by hand: what the snapshot itself holds
    const s = this.attempt(path, () => this.store.lstat(fsRelative(key)))
    return s && {kind: s.kind, size: s.size, mtimeMs: 0, ino: 0}
  }

  async run(argv: string[], options?: RunOptions): Promise<RunResult | undefined> {
    // never recorded (RecordingHost): as a program that is not there
    if (options?.input !== undefined) return undefined
    const ran = this.ran(argv)
    return ran && {stdout: ran.stdout.toString('utf8'), stderr: ran.stderr, exitCode: ran.exitCode}
  }

  /** The recorded output in one piece, as bytes, under the same cap as the live run. */
  async stream(argv: string[], onData: (chunk: Buffer) => void, options: StreamOptions): Promise<StreamResult | undefined> {
    const ran = this.ran(argv)
    if (!ran) return undefined
    if (ran.stdout.length > options.maxBytes) throw new OutputTooLargeError(argv[0], options.maxBytes)
    if (ran.stdout.length) onData(ran.stdout)
    return {stderr: ran.stderr, exitCode: ran.exitCode}
  }

  private ran(argv: string[]): {stdout: Buffer; stderr: string; exitCode: number} | undefined {
    const name = 'cmd/' + commandFileName(argv)
    const read = (suffix: string) => this.attempt(name + suffix, () => this.store.read(name + suffix))
    const stdout = read('.out')
    if (stdout === undefined) return undefined
    const exit = read('.exit')?.toString('utf8')
    let exitCode = 0
    try {
      if (exit !== undefined) exitCode = parseExitCode(exit, `${this.source}/${name}.exit`)
    } catch (error) {
      throw new SnapshotError((error as Error).message)
    }
    return {stdout, stderr: read('.err')?.toString('utf8') ?? '', exitCode}
  }
}
