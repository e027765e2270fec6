import {closeSync, constants, fstatSync, lstatSync, openSync, readSync, readdirSync, readlinkSync, type BigIntStats} from 'node:fs'
import {absorb} from './errors.js'
import {type DirEntry, type FileStat, type Warnings, hostPath} from './host.js'

// Paths inside another root (a container's /proc/<pid>/root, an overlay layer), resolved one
// component at a time the way the kernel would if that root were "/": `..` stops at the root,
// an absolute link starts again from the root, at most 40 links. The kernel cannot be asked to
// do this (openat2's RESOLVE_IN_ROOT is not reachable from Node): handed
// /proc/<pid>/root/etc/passwd it follows an absolute link in the container against the HOST's
// root, and `..` at the container's root climbs into the host.
//
// Two backends walk the same way. The live one holds each directory it passes as an O_PATH
// file descriptor and looks up the next name under /proc/self/fd/<fd>/, never following a link
// the kernel meets: a pod that swaps a directory for a link mid-walk makes the open fail
// (ENOTDIR with O_NOFOLLOW) or the identity check fail, never reach the host. Files are read
// through a descriptor opened the same way and checked to be the regular file looked at. The
// other backend walks host paths through any Host (a snapshot), where nothing moves.

export type RootEntryType = 'file' | 'dir' | 'link' | 'fifo' | 'socket' | 'char' | 'block' | 'unknown'

/** One name inside the root, as lstat sees it. */
export interface RootEntry {
  name: string
  /** where it is inside the root, with every link on the way followed */
  path: string
  type: RootEntryType
  size: number
  /** permission bits (and setuid/setgid/sticky); null where the source does not keep them (snapshots) */
  mode: number | null
  uid: number | null
  gid: number | null
  mtimeMs: number | null
  /** what a link says; null for anything else */
  linkTarget: string | null
}

export type InRootErrorCode = 'ELOOP' | 'ENOTDIR' | 'EISDIR' | 'ENOTREG' | 'ECHANGED' | 'ENOROOT'

/** A path that cannot be followed inside the root, said in the root's own terms. */
export class InRootError extends Error {
  constructor(
    readonly code: InRootErrorCode,
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`)
  }
}

export interface RootListing {
  path: string
  entries: RootEntry[]
  /** more entries than the limit asked for */
  truncated: boolean
}

export interface RootFile {
  path: string
  /** the file's size; data holds at most the bytes asked for */
  size: number
  data: Buffer
  /** the file holds more than was read */
  truncated: boolean
}

/** A root filesystem seen from the node, every path resolved inside it. */
export interface RootReader {
  /** The entry path names, its directories resolved inside the root; a last component that is a link is not followed. */
  lstat(path: string): Promise<RootEntry | undefined>
  /** The entry path leads to, every link followed inside the root. */
  stat(path: string): Promise<RootEntry | undefined>
  /** A directory's entries (at most `limit`), links on the way followed inside the root. */
  list(path: string, limit: number): Promise<RootListing | undefined>
  /** At most maxBytes of a regular file, links followed inside the root. */
  read(path: string, maxBytes: number): Promise<RootFile | undefined>
}

/** Linux's MAXSYMLINKS. */
const MAX_LINKS = 40

/** What a walk backend does with one directory handle. */
interface Backend<D> {
  openRoot(): Promise<D | undefined>
  /** lstat of one name in a directory; undefined when it is not there */
  child(dir: D, name: string): Promise<RootEntry | undefined>
  readLink(dir: D, name: string): Promise<string | undefined>
  /** the directory `name` in dir, not following a link; throws ECHANGED when it is not the one child() saw */
  enter(dir: D, name: string, seen: RootEntry, path: string): Promise<D>
  /** names in a directory */
  names(dir: D): Promise<string[] | undefined>
  readFile(dir: D, name: string, seen: RootEntry, path: string, maxBytes: number): Promise<RootFile | undefined>
  release(dir: D): void
}

function components(path: string): string[] {
  return path.split('/').filter((c) => c !== '' && c !== '.')
}

function joinInRoot(names: string[], last?: string): string {
  return '/' + [...names, ...(last === undefined ? [] : [last])].join('/')
}

/** Where a walk ended: the directories held on the way, and the last name in the last of them. */
interface Walked<D> {
  dirs: Array<{handle: D; name: string}>
  /** undefined when the path is the root itself */
  last: {name: string; entry: RootEntry} | undefined
}

class Walker<D> implements RootReader {
  constructor(private readonly backend: Backend<D>) {}

  private async walk(path: string, followLast: boolean): Promise<Walked<D> | undefined> {
    const root = await this.backend.openRoot()
    if (root === undefined) throw new InRootError('ENOROOT', '/', 'the root is not there (the process exited?)')
    const dirs: Array<{handle: D; name: string}> = [{handle: root, name: ''}]
    const names = () => dirs.slice(1).map((d) => d.name)
    const releaseAll = () => dirs.forEach((d) => this.backend.release(d.handle))
    try {
      const queue = components(path)
      let links = 0
      while (queue.length) {
        const name = queue.shift()!
        if (name === '..') {
          // at the root, `..` is the root: the kernel's rule for a process's own "/"
          if (dirs.length > 1) this.backend.release(dirs.pop()!.handle)
          continue
        }
        const here = dirs[dirs.length - 1].handle
        const entry = await this.backend.child(here, name)
        const where = joinInRoot(names(), name)
        if (!entry) {
          releaseAll()
          return undefined
        }
        entry.path = where
        const isLast = queue.length === 0
        if (entry.type === 'link' && (!isLast || followLast)) {
          if (++links > MAX_LINKS) throw new InRootError('ELOOP', path, 'too many levels of symbolic links')
          const target = await this.backend.readLink(here, name)
          if (target === undefined) {
            releaseAll()
            return undefined
          }
          if (target.startsWith('/')) while (dirs.length > 1) this.backend.release(dirs.pop()!.handle)
          queue.unshift(...components(target))
          continue
        }
        if (isLast) return {dirs, last: {name, entry}}
        if (entry.type !== 'dir') throw new InRootError('ENOTDIR', where, 'not a directory')
        dirs.push({handle: await this.backend.enter(here, name, entry, where), name})
      }
      return {dirs, last: undefined}
    } catch (error) {
      releaseAll()
      throw error
    }
  }

  private done(walked: Walked<D>): void {
    for (const d of walked.dirs) this.backend.release(d.handle)
  }

  private rootEntry(): RootEntry {
    return {name: '/', path: '/', type: 'dir', size: 0, mode: null, uid: null, gid: null, mtimeMs: null, linkTarget: null}
  }

  private async entryAt(path: string, followLast: boolean): Promise<RootEntry | undefined> {
    const walked = await this.walk(path, followLast)
    if (!walked) return undefined
    try {
      if (!walked.last) {
        const root = walked.dirs[0].handle
        // the root's own stat: "." in it
        return {...((await this.backend.child(root, '.')) ?? this.rootEntry()), name: '/', path: '/', linkTarget: null}
      }
      const entry = walked.last.entry
      if (entry.type === 'link') entry.linkTarget = (await this.backend.readLink(walked.dirs[walked.dirs.length - 1].handle, walked.last.name)) ?? null
      return entry
    } finally {
      this.done(walked)
    }
  }

  lstat(path: string): Promise<RootEntry | undefined> {
    return this.entryAt(path, false)
  }

  stat(path: string): Promise<RootEntry | undefined> {
    return this.entryAt(path, true)
  }

  async list(path: string, limit: number): Promise<RootListing | undefined> {
    const walked = await this.walk(path, true)
    if (!walked) return undefined
    let dir: D | undefined
    try {
      const parent = walked.dirs[walked.dirs.length - 1]
      const dirPath = walked.last ? joinInRoot(walked.dirs.slice(1).map((d) => d.name), walked.last.name) : '/'
      if (walked.last) {
        if (walked.last.entry.type !== 'dir') throw new InRootError('ENOTDIR', dirPath, 'not a directory')
        dir = await this.backend.enter(parent.handle, walked.last.name, walked.last.entry, dirPath)
      }
      const handle = dir ?? parent.handle
      const names = ((await this.backend.names(handle)) ?? []).filter((n) => n !== '.' && n !== '..').sort()
      const entries: RootEntry[] = []
      for (const name of names.slice(0, limit)) {
        const entry = await this.backend.child(handle, name)
        if (!entry) continue // removed since the listing: normal in a running container
        entry.path = dirPath === '/' ? `/${name}` : `${dirPath}/${name}`
        if (entry.type === 'link') entry.linkTarget = (await this.backend.readLink(handle, name)) ?? null
        entries.push(entry)
      }
      return {path: dirPath, entries, truncated: names.length > limit}
    } finally {
      if (dir !== undefined) this.backend.release(dir)
      this.done(walked)
    }
  }

  async read(path: string, maxBytes: number): Promise<RootFile | undefined> {
    const walked = await this.walk(path, true)
    if (!walked) return undefined
    try {
      if (!walked.last || walked.last.entry.type === 'dir') throw new InRootError('EISDIR', walked.last?.entry.path ?? '/', 'is a directory')
      const {name, entry} = walked.last
      if (entry.type !== 'file') throw new InRootError('ENOTREG', entry.path, `not a regular file (${entry.type}); only regular files are read`)
      return await this.backend.readFile(walked.dirs[walked.dirs.length - 1].handle, name, entry, entry.path, maxBytes)
    } finally {
      this.done(walked)
    }
  }
}

// ---- live backend: O_PATH descriptors, names looked up under /proc/self/fd/<fd>/ ----

// not in Node's fs.constants; the value on x86-64 and arm64
const O_PATH = 0o10000000
const DIR_FLAGS = O_PATH | constants.O_DIRECTORY | constants.O_NOFOLLOW
const S_IFMT = 0o170000

function typeOf(s: BigIntStats): RootEntryType {
  if (s.isSymbolicLink()) return 'link'
  if (s.isDirectory()) return 'dir'
  if (s.isFile()) return 'file'
  if (s.isFIFO()) return 'fifo'
  if (s.isSocket()) return 'socket'
  if (s.isCharacterDevice()) return 'char'
  if (s.isBlockDevice()) return 'block'
  return 'unknown'
}

interface LiveDir {
  fd: number
}

/** Same inode on the same device (bigint: overlayfs' xino puts high bits in inode numbers). */
function sameFile(a: BigIntStats, dev: bigint, ino: bigint): boolean {
  return a.dev === dev && a.ino === ino
}

class LiveBackend implements Backend<LiveDir> {
  /** dev/ino of what child() saw, by the entry object, for the checks in enter() and readFile() */
  private readonly seen = new WeakMap<RootEntry, {dev: bigint; ino: bigint; mode: bigint}>()

  constructor(
    private readonly root: string,
    private readonly warnings: Warnings,
  ) {}

  private at(dir: LiveDir, name: string): string {
    return `/proc/self/fd/${dir.fd}/${name}`
  }

  async openRoot(): Promise<LiveDir | undefined> {
    try {
      // the one link the kernel follows for us: /proc/<pid>/root, to the container's own "/"
      return {fd: openSync(this.root, O_PATH | constants.O_DIRECTORY)}
    } catch (error) {
      return absorb(error, this.root, this.warnings)
    }
  }

  async child(dir: LiveDir, name: string): Promise<RootEntry | undefined> {
    try {
      const s = lstatSync(this.at(dir, name), {bigint: true})
      const entry: RootEntry = {
        name,
        path: '',
        type: typeOf(s),
        size: Number(s.size),
        mode: Number(s.mode) & 0o7777,
        uid: Number(s.uid),
        gid: Number(s.gid),
        mtimeMs: Number(s.mtimeMs),
        linkTarget: null,
      }
      this.seen.set(entry, {dev: s.dev, ino: s.ino, mode: s.mode & BigInt(S_IFMT)})
      return entry
    } catch (error) {
      return absorb(error, `${this.root} ${name}`, this.warnings)
    }
  }

  async readLink(dir: LiveDir, name: string): Promise<string | undefined> {
    try {
      return readlinkSync(this.at(dir, name))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EINVAL') return undefined
      return absorb(error, `${this.root} ${name}`, this.warnings)
    }
  }

  private opened(fd: number, seen: RootEntry, path: string): void {
    const was = this.seen.get(seen)
    const now = fstatSync(fd, {bigint: true})
    if (!was || !sameFile(now, was.dev, was.ino) || (now.mode & BigInt(S_IFMT)) !== was.mode) {
      closeSync(fd)
      throw new InRootError('ECHANGED', path, 'changed while it was being read (the container is rewriting it); try again')
    }
  }

  async enter(dir: LiveDir, name: string, seen: RootEntry, path: string): Promise<LiveDir> {
    let fd: number
    try {
      fd = openSync(this.at(dir, name), DIR_FLAGS)
    } catch (error) {
      // ENOTDIR/ELOOP: a link now stands where a directory was; ENOENT: it went away
      throw new InRootError('ECHANGED', path, `changed while it was being read (${(error as NodeJS.ErrnoException).code}); try again`)
    }
    this.opened(fd, seen, path)
    return {fd}
  }

  async names(dir: LiveDir): Promise<string[] | undefined> {
    try {
      return readdirSync(`/proc/self/fd/${dir.fd}`)
    } catch (error) {
      return absorb(error, this.root, this.warnings)
    }
  }

  async readFile(dir: LiveDir, name: string, seen: RootEntry, path: string, maxBytes: number): Promise<RootFile | undefined> {
    let pathFd: number
    try {
      pathFd = openSync(this.at(dir, name), O_PATH | constants.O_NOFOLLOW)
    } catch (error) {
      throw new InRootError('ECHANGED', path, `changed while it was being read (${(error as NodeJS.ErrnoException).code}); try again`)
    }
    this.opened(pathFd, seen, path)
    let fd: number | undefined
    try {
      // reopening the O_PATH descriptor opens that very inode: nothing is looked up again.
      // O_NONBLOCK and O_NOCTTY: the identity check already refused fifos and devices
      fd = openSync(`/proc/self/fd/${pathFd}`, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY)
      const size = Number(fstatSync(fd, {bigint: true}).size)
      // a size of 0 may still hold text (procfs, sysfs): read up to the cap and see
      const data = Buffer.alloc(size > 0 ? Math.min(maxBytes, size) : maxBytes)
      let got = 0
      while (got < data.length) {
        const n = readSync(fd, data, got, data.length - got, got)
        if (n === 0) break
        got += n
      }
      const more = got === data.length && readSync(fd, Buffer.alloc(1), 0, 1, got) > 0
      return {path, size: Math.max(size, got), data: data.subarray(0, got), truncated: more}
    } catch (error) {
      return absorb(error, path, this.warnings)
    } finally {
      if (fd !== undefined) closeSync(fd)
      closeSync(pathFd)
    }
  }

  release(dir: LiveDir): void {
    closeSync(dir.fd)
  }
}

/** The live machine's view of a root: `root` is the real path (root prefix included) to open. */
export function liveRootReader(root: string, warnings: Warnings): RootReader {
  return new Walker(new LiveBackend(root, warnings))
}

// ---- path backend: any Host's readDir/readLink/stat (snapshots, where nothing moves) ----

/** The Host operations the path backend uses. */
export interface PathOps {
  readDir(path: string): Promise<DirEntry[] | undefined>
  readLink(path: string): Promise<string | undefined>
  stat(path: string): Promise<FileStat | undefined>
  readBytes?(path: string): Promise<Buffer | undefined>
}

class PathBackend implements Backend<string> {
  constructor(
    private readonly ops: PathOps,
    private readonly root: string,
  ) {}

  async openRoot(): Promise<string | undefined> {
    const s = await this.ops.stat(this.root)
    // a snapshot keeps /proc/<pid>/root as a folder when it recorded anything under it
    return s?.kind === 'dir' || s?.kind === 'link' ? hostPath(this.root) : undefined
  }

  async child(dir: string, name: string): Promise<RootEntry | undefined> {
    const s = await this.ops.stat(hostPath(dir, name))
    if (!s) return undefined
    return {name, path: '', type: s.kind === 'other' ? 'unknown' : s.kind, size: s.size, mode: null, uid: null, gid: null, mtimeMs: s.mtimeMs || null, linkTarget: null}
  }

  readLink(dir: string, name: string): Promise<string | undefined> {
    return this.ops.readLink(hostPath(dir, name))
  }

  async enter(dir: string, name: string): Promise<string> {
    return hostPath(dir, name)
  }

  async names(dir: string): Promise<string[] | undefined> {
    return (await this.ops.readDir(dir))?.map((e) => e.name)
  }

  async readFile(dir: string, name: string, _seen: RootEntry, path: string, maxBytes: number): Promise<RootFile | undefined> {
    const data = await this.ops.readBytes?.(hostPath(dir, name))
    return data ? {path, size: data.length, data: data.subarray(0, maxBytes), truncated: data.length > maxBytes} : undefined
  }

  release(): void {}
}

/** A root read through a Host's path operations: for hosts that do not move under us (snapshots). */
export function pathRootReader(ops: PathOps, root: string): RootReader {
  return new Walker(new PathBackend(ops, root))
}

/**
 * The reader for a root on this host: the host's own (live: descriptor walk), or for a host
 * that does not move (a snapshot) a walk over its paths. A live host without one is refused
 * rather than read through paths a pod could swap under us.
 */
export function rootReader(host: PathOps & {root?: string; inRoot?(root: string): RootReader}, root: string): RootReader {
  if (host.inRoot) return host.inRoot(root)
  if (host.root !== undefined) throw new Error('this host cannot read inside a root safely (no inRoot)')
  return pathRootReader(host, root)
}
