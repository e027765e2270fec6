import {mkdir, mkdtemp, open, rm, stat, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import * as tar from 'tar'
import {type DirEntry, type FileStat, type Host, type ReadOptions, type RunOptions, type RunResult, hostPath} from './host.js'
import {type RootReader, rootReader} from './in-root.js'
import {type SnapshotMeta, commandFileName, fsRelative} from './snapshot-layout.js'

/** Logs are kept as tails: a snapshot is for diagnosis, not for archiving a node's output. */
const LOG_TAIL_BYTES = 16 * 1024
const LOG_PREFIXES = ['/var/log/']

/**
 * Passes every call to the live host and writes what came back into a snapshot folder, so a
 * snapshot holds exactly the host truth nodedoc read, no more.
 */
export class RecordingHost implements Host {
  readonly description: string
  private readonly stats: Record<string, FileStat> = {}
  private readonly writes: Promise<unknown>[] = []

  private constructor(
    private readonly inner: Host,
    private readonly dir: string,
    private readonly archive: string | undefined,
  ) {
    this.description = inner.description
  }

  get warnings() {
    return this.inner.warnings
  }

  /** target: a folder to create, or a .tar.gz file to write at the end. */
  static async create(inner: Host, target: string): Promise<RecordingHost> {
    const archive = /\.(tar\.gz|tgz)$/.test(target) ? target : undefined
    const dir = archive ? await mkdtemp(join(tmpdir(), 'nodedoc-snapshot-')) : target
    await mkdir(join(dir, 'fs'), {recursive: true})
    return new RecordingHost(inner, dir, archive)
  }

  private at(path: string): string {
    return join(this.dir, fsRelative(hostPath(path)))
  }

  private record(work: () => Promise<unknown>): void {
    this.writes.push(work().catch(() => undefined))
  }

  private recordFile(file: string, data: string | Buffer): void {
    this.record(async () => {
      await mkdir(dirname(file), {recursive: true})
      await writeFile(file, data)
    })
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
    if (text !== undefined) this.recordFile(join(this.dir, 'answers', name), text)
    return text
  }

  async readBytes(path: string): Promise<Buffer | undefined> {
    const data = await this.inner.readBytes?.(path)
    if (data !== undefined) this.recordFile(this.at(path), data)
    return data
  }

  async readDir(path: string): Promise<DirEntry[] | undefined> {
    const entries = await this.inner.readDir(path)
    if (entries) {
      const base = this.at(path)
      this.record(async () => {
        await mkdir(base, {recursive: true})
        for (const entry of entries) {
          const place = join(base, entry.name)
          if (entry.kind === 'dir') await mkdir(place, {recursive: true})
          else if (entry.kind === 'link') {
            const target = await this.inner.readLink(hostPath(path, entry.name))
            if (target !== undefined) await symlink(target, place).catch(() => undefined)
          } else await (await open(place, 'a')).close()
        }
      })
    }
    return entries
  }

  async readLink(path: string): Promise<string | undefined> {
    const target = await this.inner.readLink(path)
    if (target !== undefined) {
      const place = this.at(path)
      this.record(async () => {
        await mkdir(dirname(place), {recursive: true})
        await rm(place, {force: true})
        await symlink(target, place)
      })
    }
    return target
  }

  async stat(path: string): Promise<FileStat | undefined> {
    const s = await this.inner.stat(path)
    if (s) {
      this.stats[hostPath(path)] = s
      if (s.kind === 'dir') this.record(() => mkdir(this.at(path), {recursive: true}))
    }
    return s
  }

  async run(argv: string[], options?: RunOptions): Promise<RunResult | undefined> {
    const result = await this.inner.run(argv, options)
    if (result) {
      const base = join(this.dir, 'cmd', commandFileName(argv))
      this.record(async () => {
        await mkdir(dirname(base), {recursive: true})
        await writeFile(base + '.out', result.stdout)
        if (result.stderr) await writeFile(base + '.err', result.stderr)
        if (result.exitCode !== 0) await writeFile(base + '.exit', `${result.exitCode}\n`)
      })
    }
    return result
  }

  /** Passed through and never written down: a snapshot holds no container files. */
  inRoot(root: string): RootReader {
    return rootReader(this.inner, root)
  }

  /** Writes meta.json and stat.json, packs the archive if one was asked for. Returns where it went. */
  async finish(meta: SnapshotMeta): Promise<string> {
    await Promise.all(this.writes)
    const sortedStats = Object.fromEntries(Object.entries(this.stats).sort(([a], [b]) => a.localeCompare(b)))
    await writeFile(join(this.dir, 'stat.json'), JSON.stringify(sortedStats, null, 1) + '\n')
    await writeFile(join(this.dir, 'meta.json'), JSON.stringify(meta, null, 2) + '\n')
    if (!this.archive) return this.dir
    try {
      await tar.c({gzip: true, file: this.archive, cwd: this.dir, portable: true}, ['meta.json', 'stat.json', 'fs', ...(await hasDir(this.dir, 'cmd') ? ['cmd'] : []), ...(await hasDir(this.dir, 'answers') ? ['answers'] : [])])
    } finally {
      await rm(this.dir, {recursive: true, force: true})
    }
    return this.archive
  }
}

async function hasDir(dir: string, name: string): Promise<boolean> {
  return stat(join(dir, name)).then((s) => s.isDirectory(), () => false)
}
