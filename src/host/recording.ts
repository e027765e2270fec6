import {closeSync, constants, createWriteStream, fstatSync, mkdirSync, mkdtempSync, openSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pipeline} from 'node:stream/promises'
import * as tar from 'tar'
import {type DirEntry, type FileStat, type Host, type ReadOptions, type RunOptions, type RunResult, type StreamOptions, type StreamResult, hostPath, runStream, stripFinalNewline} from './host.js'
import {lstatInRoot} from './in-root.js'
import {mkdirInRoot, symlinkInRoot, writeFileInRoot} from './in-root-write.js'
import {type RootReader, rootReader} from './root-reader.js'
import {type SnapshotMeta, commandFileName, fsRelative} from './snapshot-layout.js'

/** Logs are kept as tails: a snapshot is for diagnosis, not for archiving a node's output. */
const LOG_TAIL_BYTES = 16 * 1024
const LOG_PREFIXES = ['/var/log/']

/** Linux's O_PATH (src/host/in-root.ts). */
const O_PATH = 0o10000000

export class SnapshotWriteError extends Error {}

/**
 * Where a snapshot is written: a folder nodedoc makes itself (mode 0700; it must not exist, so
 * nobody can have planted a link in it), held open by descriptor so that a folder renamed or
 * swapped under the same name afterwards is not written to. Every file goes in with
 * O_CREAT|O_EXCL|O_NOFOLLOW (src/host/in-root.ts).
 */
class OwnFolder {
  private constructor(readonly path: string, private readonly fd: number) {}

  /** /proc/self/fd/<fd>: the folder itself, whatever its name now leads to. */
  get root(): string {
    return `/proc/self/fd/${this.fd}`
  }

  static make(path: string): OwnFolder {
    try {
      mkdirSync(path, 0o700)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'EEXIST') throw new SnapshotWriteError('it exists: snapshot makes a new folder (or .tar.gz) of its own')
      if (code === 'ENOENT') throw new SnapshotWriteError('its parent folder does not exist')
      throw error
    }
    const fd = openSync(path, O_PATH | constants.O_DIRECTORY | constants.O_NOFOLLOW)
    const s = fstatSync(fd)
    // made by us a moment ago: ours, and closed to everyone else
    if (s.uid !== process.geteuid?.() || (s.mode & 0o077) !== 0) {
      closeSync(fd)
      throw new SnapshotWriteError(`not the private folder just made (owner ${s.uid}, mode ${(s.mode & 0o777).toString(8)})`)
    }
    return new OwnFolder(path, fd)
  }

  close(): void {
    closeSync(this.fd)
  }
}

/**
 * Passes every call to the live host and writes what came back into a snapshot folder, so a
 * snapshot holds exactly the host truth nodedoc read, no more.
 */
export class RecordingHost implements Host {
  readonly description: string
  private readonly stats: Record<string, FileStat> = {}
  private failed = 0

  private constructor(
    private readonly inner: Host,
    private readonly folder: OwnFolder,
    private readonly archive: {path: string; fd: number} | undefined,
  ) {
    this.description = inner.description
  }

  get warnings() {
    return this.inner.warnings
  }

  /** target: a folder to create, or a .tar.gz file to write at the end; neither may exist. */
  static async create(inner: Host, target: string): Promise<RecordingHost> {
    if (!/\.(tar\.gz|tgz)$/.test(target)) return new RecordingHost(inner, OwnFolder.make(target), undefined)
    let fd: number
    try {
      // claimed now, so that nobody can plant a link at that name while the capture runs
      fd = openSync(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new SnapshotWriteError('it exists: snapshot writes a new file')
      throw error
    }
    const folder = OwnFolder.make(join(mkdtempSync(join(tmpdir(), 'nodedoc-snapshot-')), 'snapshot'))
    return new RecordingHost(inner, folder, {path: target, fd})
  }

  private at(path: string): string {
    return fsRelative(hostPath(path))
  }

  /** Writes down one thing; a failure is counted (said once at the end), never fatal to the capture. */
  private record(what: string, work: () => void): void {
    try {
      work()
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      // a folder recorded where a link was read, or the other way round: the first one stays
      if (code === 'EISDIR' || code === 'EEXIST') return
      this.failed++
      this.inner.warnings.add('snapshot:write', `could not write into the snapshot (${code ?? (error as Error).message})`, what)
    }
  }

  private recordFile(rel: string, data: string | Buffer): void {
    // through a link the snapshot already holds (inside it), as reading it on the node did
    this.record(rel, () => writeFileInRoot(this.folder.root, rel, data, {followLast: true}))
  }

  async readFile(path: string, options: ReadOptions = {}): Promise<string | undefined> {
    const isLog = LOG_PREFIXES.some((p) => hostPath(path).startsWith(p))
    const tailBytes = isLog ? Math.min(options.tailBytes ?? LOG_TAIL_BYTES, LOG_TAIL_BYTES) : options.tailBytes
    const text = await this.inner.readFile(path, {...options, tailBytes})
    if (text !== undefined) this.recordFile(this.at(path), text)
    return text
  }

  get root(): string | undefined {
    return this.inner.root
  }

  async answer(name: string, ask: () => Promise<string | undefined>): Promise<string | undefined> {
    const text = await (this.inner.answer ? this.inner.answer(name, ask) : ask())
    if (text !== undefined) this.recordFile(`answers/${name}`, text)
    return text
  }

  async readBytes(path: string, options: ReadOptions = {}): Promise<Buffer | undefined> {
    const isLog = LOG_PREFIXES.some((p) => hostPath(path).startsWith(p)) && !/\.gz$/.test(path)
    const tailBytes = isLog ? Math.min(options.tailBytes ?? LOG_TAIL_BYTES, LOG_TAIL_BYTES) : options.tailBytes
    const data = await this.inner.readBytes?.(path, {...options, tailBytes})
    if (data !== undefined) this.recordFile(this.at(path), data)
    return data
  }

  async readDir(path: string): Promise<DirEntry[] | undefined> {
    const entries = await this.inner.readDir(path)
    if (!entries) return entries
    const base = this.at(path)
    this.record(base, () => mkdirInRoot(this.folder.root, base))
    for (const entry of entries) {
      const place = `${base}/${entry.name}`
      if (entry.kind === 'dir') this.record(place, () => mkdirInRoot(this.folder.root, place))
      else if (entry.kind === 'link') {
        const target = await this.inner.readLink(hostPath(path, entry.name))
        if (target !== undefined) this.record(place, () => symlinkInRoot(this.folder.root, place, target))
      } else if (!this.holds(place)) {
        // listed, not read: an empty file keeps the name (docs/snapshot.md)
        this.record(place, () => writeFileInRoot(this.folder.root, place, ''))
      }
    }
    return entries
  }

  private holds(rel: string): boolean {
    try {
      lstatInRoot(this.folder.root, rel)
      return true
    } catch {
      return false
    }
  }

  async readLink(path: string): Promise<string | undefined> {
    const target = await this.inner.readLink(path)
    if (target !== undefined) this.record(this.at(path), () => symlinkInRoot(this.folder.root, this.at(path), target))
    return target
  }

  async stat(path: string): Promise<FileStat | undefined> {
    const s = await this.inner.stat(path)
    if (s) {
      this.stats[hostPath(path)] = s
      if (s.kind === 'dir') this.record(this.at(path), () => mkdirInRoot(this.folder.root, this.at(path)))
    }
    return s
  }

  async run(argv: string[], options?: RunOptions): Promise<RunResult | undefined> {
    const result = await this.inner.run(argv, options)
    // a run fed input is not its argv's answer alone: not written down (the snapshot's reader asks without it)
    if (result && options?.input === undefined) this.recordRun(argv, result)
    return result
  }

  private recordRun(argv: string[], result: RunResult): void {
    const base = `cmd/${commandFileName(argv)}`
    this.recordFile(base + '.out', result.stdout)
    if (result.stderr) this.recordFile(base + '.err', result.stderr)
    if (result.exitCode !== 0) this.recordFile(base + '.exit', `${result.exitCode}\n`)
  }

  /** Passed through piece by piece, and written down as run() is: its text, final newline left out. */
  async stream(argv: string[], onData: (chunk: Buffer) => void, options: StreamOptions): Promise<StreamResult | undefined> {
    const chunks: Buffer[] = []
    const result = await runStream(this.inner, argv, (chunk) => {
      chunks.push(chunk)
      onData(chunk)
    }, options)
    if (result) this.recordRun(argv, {stdout: stripFinalNewline(Buffer.concat(chunks).toString('utf8')), ...result})
    return result
  }

  /** Passed through and never written down: a snapshot holds no container files. */
  inRoot(root: string): RootReader {
    return rootReader(this.inner, root)
  }

  /** Writes meta.json and stat.json, packs the archive if one was asked for. Returns where it went. */
  async finish(meta: SnapshotMeta): Promise<string> {
    const sortedStats = Object.fromEntries(Object.entries(this.stats).sort(([a], [b]) => a.localeCompare(b)))
    writeFileInRoot(this.folder.root, 'stat.json', JSON.stringify(sortedStats, null, 1) + '\n')
    writeFileInRoot(this.folder.root, 'meta.json', JSON.stringify(meta, null, 2) + '\n')
    if (!this.archive) {
      this.folder.close()
      return this.folder.path
    }
    try {
      const parts = ['meta.json', 'stat.json', 'fs', 'cmd', 'answers'].filter((p) => p.includes('.') || this.holds(p))
      await pipeline(tar.c({gzip: true, cwd: this.folder.root, portable: true}, parts), createWriteStream('', {fd: this.archive.fd}))
    } finally {
      this.removeTemporary()
    }
    return this.archive.path
  }

  /** A capture that failed leaves nothing: the folder or archive it started is removed. */
  abandon(): void {
    if (this.archive) {
      this.removeTemporary()
      try {
        closeSync(this.archive.fd)
      } catch {}
      rmSync(this.archive.path, {force: true})
      return
    }
    this.folder.close()
    rmSync(this.folder.path, {recursive: true, force: true})
  }

  private removeTemporary(): void {
    this.folder.close()
    rmSync(join(this.folder.path, '..'), {recursive: true, force: true})
  }
}
