import {closeSync, constants, fstatSync, lstatSync, openSync, readSync, realpathSync, statSync} from 'node:fs'
import * as tar from 'tar'
import {absorb} from './errors.js'
import {type DirEntry, type EntryKind, type FileStat, type Host, type ReadOptions, type RunResult, Warnings, hostPath, tailFrom} from './host.js'
import {InRootError, type Tree, lstatInRoot, readDirInRoot, readFileInRoot, readLinkInRoot, walkInRoot} from './in-root.js'
import {type SnapshotMeta, SNAPSHOT_LIMITS, commandFileName, fsRelative, sizeLimit} from './snapshot-layout.js'
import {SchemaError, parseExitCode, parseMeta, parseStats} from './snapshot-schema.js'

// A snapshot comes from anyone: a folder or an archive someone hands over. Nothing in it is
// trusted: every path is resolved inside the snapshot (links and ".." never lead out of it, an
// absolute link target means the captured node's "/", that is fs/), only regular files are
// read and each read is capped, an archive is read as a stream with caps on what it expands
// to, and its own files (meta.json, stat.json, exit codes) are checked against their schema.

/** What a snapshot is stored in: a folder, or an archive read once into memory. Paths as in the layout: fs/..., cmd/..., meta.json. */
interface Store {
  read(rel: string, tailBytes?: number): Buffer
  list(rel: string): DirEntry[]
  link(rel: string): string
  lstat(rel: string): {kind: EntryKind; size: number}
}

export class SnapshotError extends Error {}

/** Replays a captured node: the same reads give the same answers, with no machine behind them. */
export class SnapshotHost implements Host {
  readonly description: string

  private constructor(
    readonly warnings: Warnings,
    private readonly store: Store,
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

  async run(argv: string[]): Promise<RunResult | undefined> {
    const name = 'cmd/' + commandFileName(argv)
    const read = (suffix: string) => this.attempt(name + suffix, () => this.store.read(name + suffix))?.toString('utf8')
    const stdout = read('.out')
    if (stdout === undefined) return undefined
    const exit = read('.exit')
    let exitCode = 0
    try {
      if (exit !== undefined) exitCode = parseExitCode(exit, `${this.source}/${name}.exit`)
    } catch (error) {
      throw new SnapshotError((error as Error).message)
    }
    return {stdout, stderr: read('.err') ?? '', exitCode}
  }
}

const kindOf = (d: {isSymbolicLink(): boolean; isDirectory(): boolean; isFile(): boolean}): EntryKind =>
  d.isSymbolicLink() ? 'link' : d.isDirectory() ? 'dir' : d.isFile() ? 'file' : 'other'

/**
 * A snapshot folder. fs/ is the captured node's "/": paths under it resolve inside it; the
 * snapshot's own files resolve inside the folder. Hard links are refused: in a folder someone
 * else made, one may be any file of this machine (nodedoc never writes one).
 */
class DirStore implements Store {
  private constructor(private readonly top: string, private readonly fsRoot: string | undefined) {}

  static open(dir: string): DirStore {
    const top = realpathSync(dir)
    let fsRoot: string | undefined = `${top}/fs`
    try {
      // fs itself a link (to "/", say) would make the whole machine the snapshot
      if (!lstatSync(fsRoot).isDirectory()) fsRoot = undefined
    } catch {
      fsRoot = undefined
    }
    return new DirStore(top, fsRoot)
  }

  private place(rel: string): [string, string] {
    if (rel === 'fs' || rel.startsWith('fs/')) {
      if (this.fsRoot === undefined) throw Object.assign(new Error(`${rel}: no fs/ folder`), {code: 'ENOENT'})
      return [this.fsRoot, rel.slice(2) || '/']
    }
    return [this.top, rel]
  }

  read(rel: string, tailBytes?: number): Buffer {
    const [root, path] = this.place(rel)
    return readFileInRoot(root, path, {maxBytes: sizeLimit(rel), tailBytes, refuseHardLinks: true})
  }

  list(rel: string): DirEntry[] {
    return readDirInRoot(...this.place(rel)).map((e) => ({name: e.name, kind: kindOf(e)}))
  }

  link(rel: string): string {
    return readLinkInRoot(...this.place(rel))
  }

  lstat(rel: string): {kind: EntryKind; size: number} {
    const s = lstatInRoot(...this.place(rel))
    return {kind: kindOf(s), size: s.size}
  }
}

interface TarNode {
  kind: EntryKind
  data?: Buffer
  target?: string
  children?: Map<string, TarNode>
}

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile'])
const SKIPPED_TYPES: Record<string, string> = {
  Link: 'a hard link',
  CharacterDevice: 'a device',
  BlockDevice: 'a device',
  FIFO: 'a FIFO',
}

/**
 * A snapshot archive (.tar.gz, .tgz or .tar), read once as a stream: gzip cannot seek, and a
 * snapshot's members are read in any order. Memory stays within the caps: a member above its
 * size cap is skipped unread, and an archive whose headers declare more than the total cap or
 * too many members is refused before it is expanded.
 */
class TarStore implements Store {
  private constructor(private readonly rootNode: TarNode) {}

  static load(file: string, warnings: Warnings): TarStore {
    const root: TarNode = {kind: 'dir', children: new Map()}
    let members = 0
    let declared = 0
    let failure: string | undefined
    const skip = (path: string, why: string) => warnings.add(`archive:${why}`, `archive members skipped: ${why}`, path)
    const parser = new tar.Parser({
      onReadEntry: (entry) => {
        if (failure !== undefined) return entry.resume()
        declared += entry.size ?? 0
        if (++members > SNAPSHOT_LIMITS.archiveEntries) failure = `more than ${SNAPSHOT_LIMITS.archiveEntries} members`
        else if (declared > SNAPSHOT_LIMITS.archiveBytes) failure = `expands to more than ${SNAPSHOT_LIMITS.archiveBytes / 1024 / 1024} MiB`
        if (failure !== undefined) return entry.resume()
        const rel = memberPath(entry.path)
        if (rel === undefined) {
          skip(entry.path, '".." in the name')
          return entry.resume()
        }
        if (rel === '') return entry.resume()
        const unwanted = SKIPPED_TYPES[entry.type]
        if (unwanted || (!FILE_TYPES.has(entry.type) && entry.type !== 'Directory' && entry.type !== 'SymbolicLink')) {
          skip(rel, unwanted ?? `not a file, folder or link (${entry.type})`)
          return entry.resume()
        }
        if (entry.type === 'Directory' || entry.type === 'SymbolicLink') {
          const node: TarNode = entry.type === 'Directory' ? {kind: 'dir', children: new Map()} : {kind: 'link', target: entry.linkpath ?? ''}
          const problem = TarStore.place(root, rel, node)
          if (problem) skip(rel, problem)
          return entry.resume()
        }
        const cap = sizeLimit(rel)
        if ((entry.size ?? 0) > cap) {
          skip(rel, `larger than ${cap / 1024 / 1024} MiB`)
          return entry.resume()
        }
        const chunks: Buffer[] = []
        let length = 0
        entry.on('data', (chunk: Buffer) => {
          length += chunk.length
          if (length <= cap) chunks.push(chunk)
        })
        entry.on('end', () => {
          if (length > cap) return skip(rel, `larger than ${cap / 1024 / 1024} MiB`)
          const problem = TarStore.place(root, rel, {kind: 'file', data: Buffer.concat(chunks, length)})
          if (problem) skip(rel, problem)
        })
      },
    })
    parser.on('warn', (code: string, message: string) => {
      if (code === 'TAR_ENTRY_INFO') return
      // one bad header costs that member, not the archive
      if (code === 'TAR_ENTRY_INVALID' || code === 'TAR_ENTRY_UNSUPPORTED' || code === 'TAR_ENTRY_ERROR') return skip(file, `unreadable member (${message})`)
      failure ??= message
    })
    parser.on('error', (error: Error) => {
      failure ??= error.message
    })
    readStream(file, (chunk) => {
      parser.write(chunk)
      return failure === undefined
    })
    if (failure === undefined) parser.end()
    if (failure !== undefined) throw new SnapshotError(`${file}: not a readable snapshot archive (${failure})`)
    // archives made with a top folder (tar czf x.tar.gz snap/) hold everything one level down
    const names = [...root.children!.keys()]
    if (!root.children!.has('meta.json') && names.length === 1) {
      const only = root.children!.get(names[0])!
      if (only.kind === 'dir') return new TarStore(only)
    }
    return new TarStore(root)
  }

  /** Puts a member in the tree; a reason when it cannot go there. */
  private static place(root: TarNode, rel: string, node: TarNode): string | undefined {
    const parts = rel.split('/')
    let dir = root
    for (const part of parts.slice(0, -1)) {
      let next = dir.children!.get(part)
      if (!next) {
        next = {kind: 'dir', children: new Map()}
        dir.children!.set(part, next)
      }
      if (next.kind !== 'dir') return 'inside something that is not a folder'
      dir = next
    }
    const last = parts.at(-1)!
    const existing = dir.children!.get(last)
    if (existing?.kind === 'dir') {
      // a directory entry may arrive after its children
      if (node.kind === 'dir') return undefined
      if (existing.children!.size > 0) return 'a folder of that name is already there'
    }
    dir.children!.set(last, node)
    return undefined
  }

  /** The tree under `top` (the whole archive, or fs/ for the node's own paths), for the walk. */
  private tree(top: TarNode): Tree<TarNode> {
    return {
      root: () => top,
      lookup(dir, name) {
        const node = dir.children?.get(name)
        if (!node) return undefined
        if (node.kind === 'link') return {kind: 'link', handle: node, target: node.target ?? ''}
        return {kind: node.kind === 'dir' ? 'dir' : 'leaf', handle: node}
      },
      release: () => undefined,
    }
  }

  private find(rel: string, follow: boolean): TarNode {
    const inFs = rel === 'fs' || rel.startsWith('fs/')
    const top = inFs ? this.rootNode.children!.get('fs') : this.rootNode
    if (!top || top.kind !== 'dir') throw Object.assign(new Error(`${rel}: not in the archive`), {code: 'ENOENT'})
    const found = walkInRoot(this.tree(top), inFs ? rel.slice(2) : rel, {follow})
    return found.handle
  }

  read(rel: string, tailBytes?: number): Buffer {
    const node = this.find(rel, true)
    if (node.kind !== 'file') throw new InRootError('not-regular', rel, `not a regular file (${node.kind})`)
    const data = node.data!
    return tailBytes !== undefined && data.length > tailBytes ? data.subarray(data.length - tailBytes) : data
  }

  list(rel: string): DirEntry[] {
    const node = this.find(rel, true)
    if (node.kind !== 'dir') throw new InRootError('not-dir', rel, 'not a directory')
    return [...node.children!.entries()].map(([name, child]) => ({name, kind: child.kind}))
  }

  link(rel: string): string {
    const node = this.find(rel, false)
    if (node.kind !== 'link') throw Object.assign(new Error(`${rel}: not a link`), {code: 'EINVAL'})
    return node.target ?? ''
  }

  lstat(rel: string): {kind: EntryKind; size: number} {
    const node = this.find(rel, false)
    return {kind: node.kind, size: node.data?.length ?? 0}
  }
}

/** A member's name inside the archive: leading "/" and "./" dropped as tar does; undefined when it holds "..". */
function memberPath(name: string): string | undefined {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.')
  if (parts.includes('..')) return undefined
  return parts.join('/')
}

/** Feeds a regular file to `take` in chunks until it says stop; a FIFO or device is refused unread. */
function readStream(file: string, take: (chunk: Buffer) => boolean): void {
  let fd: number
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (error) {
    throw new SnapshotError(`${file}: ${(error as Error).message}`)
  }
  try {
    if (!fstatSync(fd).isFile()) throw new SnapshotError(`${file}: not a regular file`)
    // small reads: gzip expands each one in a single step (up to 1000 times its size), so the
    // read size bounds what a bomb can allocate before the caps see it
    const buffer = Buffer.allocUnsafe(64 * 1024)
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null)
      if (n === 0) return
      // the parser keeps what it is given: hand it a copy, not the reused buffer
      if (!take(Buffer.from(buffer.subarray(0, n)))) return
    }
  } finally {
    closeSync(fd)
  }
}
