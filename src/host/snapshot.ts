import {lstatSync, readFileSync, readdirSync, readlinkSync} from 'node:fs'
import * as tar from 'tar'
import {type DirEntry, type EntryKind, type FileStat, type Host, type ReadOptions, type RunResult, Warnings, hostPath} from './host.js'
import {type SnapshotMeta, commandFileName, fsRelative} from './snapshot-layout.js'

/** What a snapshot is stored in: a folder, or a .tar.gz read whole into memory. */
interface Store {
  read(rel: string): Promise<Buffer | undefined>
  list(rel: string): Promise<DirEntry[] | undefined>
  link(rel: string): Promise<string | undefined>
  kind(rel: string): Promise<EntryKind | undefined>
}

export class SnapshotError extends Error {}

/** Replays a captured node: the same reads give the same answers, with no machine behind them. */
export class SnapshotHost implements Host {
  readonly warnings = new Warnings()
  readonly description: string
  private stats: Record<string, FileStat> | undefined

  private constructor(
    private readonly store: Store,
    readonly meta: SnapshotMeta,
    source: string,
  ) {
    this.description = `snapshot ${source}`
  }

  static async open(source: string): Promise<SnapshotHost> {
    const store = /\.(tar\.gz|tgz|tar)$/.test(source) ? await TarStore.load(source) : new DirStore(source)
    const metaText = await store.read('meta.json')
    if (!metaText) throw new SnapshotError(`${source}: no meta.json, not a nodedoc snapshot`)
    let meta: SnapshotMeta
    try {
      meta = JSON.parse(metaText.toString('utf8'))
    } catch (error) {
      throw new SnapshotError(`${source}/meta.json: ${(error as Error).message}`)
    }
    return new SnapshotHost(store, meta, source)
  }

  async readFile(path: string, options: ReadOptions = {}): Promise<string | undefined> {
    const data = await this.store.read(fsRelative(hostPath(path)))
    if (!data) return undefined
    if (options.tailBytes === undefined || data.length <= options.tailBytes) return data.toString('utf8')
    const text = data.subarray(data.length - options.tailBytes).toString('utf8')
    return text.slice(text.indexOf('\n') + 1)
  }

  async answer(name: string): Promise<string | undefined> {
    return (await this.store.read(`answers/${name}`))?.toString('utf8')
  }

  readBytes(path: string): Promise<Buffer | undefined> {
    return this.store.read(fsRelative(hostPath(path)))
  }

  readDir(path: string): Promise<DirEntry[] | undefined> {
    return this.store.list(fsRelative(hostPath(path)))
  }

  readLink(path: string): Promise<string | undefined> {
    return this.store.link(fsRelative(hostPath(path)))
  }

  async stat(path: string): Promise<FileStat | undefined> {
    const key = hostPath(path)
    if (!this.stats) {
      const text = await this.store.read('stat.json')
      this.stats = text ? JSON.parse(text.toString('utf8')) : {}
    }
    const recorded = this.stats![key]
    if (recorded) return recorded
    // built by hand: fall back to what the folder holds
    const kind = await this.store.kind(fsRelative(key))
    if (!kind) return undefined
    const data = kind === 'file' ? await this.store.read(fsRelative(key)) : undefined
    return {kind, size: data?.length ?? 0, mtimeMs: 0, ino: 0}
  }

  async run(argv: string[]): Promise<RunResult | undefined> {
    const name = 'cmd/' + commandFileName(argv)
    const stdout = await this.store.read(name + '.out')
    if (!stdout) return undefined
    const exit = await this.store.read(name + '.exit')
    const stderr = await this.store.read(name + '.err')
    return {
      stdout: stdout.toString('utf8'),
      stderr: stderr?.toString('utf8') ?? '',
      exitCode: exit ? Number.parseInt(exit.toString('utf8'), 10) : 0,
    }
  }
}

class DirStore implements Store {
  constructor(private readonly dir: string) {}

  // rel comes normalized (hostPath, or a fixed name such as meta.json): path.join would only
  // normalize it again, which on a cold start costs about what the read does
  private at(rel: string): string {
    return `${this.dir}/${rel}`
  }

  // synchronous: thousands of small files and folders, where a promise per open/stat/read/close
  // costs more than the reads themselves (and a run that makes none never starts libuv's threads)
  async read(rel: string): Promise<Buffer | undefined> {
    try {
      return readFileSync(this.at(rel))
    } catch {
      return undefined
    }
  }

  async list(rel: string): Promise<DirEntry[] | undefined> {
    try {
      const entries = readdirSync(this.at(rel), {withFileTypes: true})
      return entries.map((e) => ({name: e.name, kind: e.isSymbolicLink() ? 'link' : e.isDirectory() ? 'dir' : e.isFile() ? 'file' : 'other'}))
    } catch {
      return undefined
    }
  }

  async link(rel: string): Promise<string | undefined> {
    try {
      return readlinkSync(this.at(rel))
    } catch {
      return undefined
    }
  }

  async kind(rel: string): Promise<EntryKind | undefined> {
    try {
      const s = lstatSync(this.at(rel))
      return s.isSymbolicLink() ? 'link' : s.isDirectory() ? 'dir' : 'file'
    } catch {
      return undefined
    }
  }
}

interface TarNode {
  kind: EntryKind
  data?: Buffer
  target?: string
  children?: Map<string, TarNode>
}

class TarStore implements Store {
  private constructor(private readonly rootNode: TarNode) {}

  static async load(file: string): Promise<TarStore> {
    const root: TarNode = {kind: 'dir', children: new Map()}
    const pending: Promise<void>[] = []
    try {
      await tar.t({
        file,
        onReadEntry: (entry) => {
          const rel = entry.path.replace(/^\.?\/*/, '').replace(/\/$/, '')
          if (!rel) return entry.resume()
          if (entry.type === 'Directory') {
            TarStore.place(root, rel, {kind: 'dir', children: new Map()})
            return entry.resume()
          }
          if (entry.type === 'SymbolicLink') {
            TarStore.place(root, rel, {kind: 'link', target: entry.linkpath})
            return entry.resume()
          }
          const chunks: Buffer[] = []
          entry.on('data', (c: Buffer) => chunks.push(c))
          pending.push(new Promise((done) => entry.on('end', () => {
            TarStore.place(root, rel, {kind: 'file', data: Buffer.concat(chunks)})
            done()
          })))
        },
      })
    } catch (error) {
      throw new SnapshotError(`${file}: not a readable snapshot archive (${(error as Error).message})`)
    }
    await Promise.all(pending)
    // archives made with a top folder (tar czf x.tar.gz snap/) hold everything one level down
    const names = [...root.children!.keys()]
    if (!root.children!.has('meta.json') && names.length === 1) {
      const only = root.children!.get(names[0])!
      if (only.kind === 'dir') return new TarStore(only)
    }
    return new TarStore(root)
  }

  private static place(root: TarNode, rel: string, node: TarNode): void {
    const parts = rel.split('/')
    let dir = root
    for (const part of parts.slice(0, -1)) {
      let next = dir.children!.get(part)
      if (!next) {
        next = {kind: 'dir', children: new Map()}
        dir.children!.set(part, next)
      }
      dir = next
    }
    const last = parts.at(-1)!
    const existing = dir.children!.get(last)
    // a directory entry may arrive after its children
    if (existing?.kind === 'dir' && node.kind === 'dir') return
    dir.children!.set(last, node)
  }

  private find(rel: string): TarNode | undefined {
    let node: TarNode | undefined = this.rootNode
    for (const part of rel.split('/').filter(Boolean)) {
      node = node?.children?.get(part)
      if (!node) return undefined
    }
    return node
  }

  async read(rel: string): Promise<Buffer | undefined> {
    const node = this.find(rel)
    return node?.kind === 'file' ? node.data : undefined
  }

  async list(rel: string): Promise<DirEntry[] | undefined> {
    const node = this.find(rel)
    if (node?.kind !== 'dir') return undefined
    return [...node.children!.entries()].map(([name, child]) => ({name, kind: child.kind}))
  }

  async link(rel: string): Promise<string | undefined> {
    const node = this.find(rel)
    return node?.kind === 'link' ? node.target : undefined
  }

  async kind(rel: string): Promise<EntryKind | undefined> {
    return this.find(rel)?.kind
  }
}
