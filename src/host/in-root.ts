// Reading and writing a path *inside a root* (a node's filesystem under --host-root, a snapshot
// folder, a process's /proc/<pid>/root) without ever leaving it, whatever links and `..` the
// path meets on the way. The semantics are openat2(2)'s RESOLVE_IN_ROOT, done by hand because
// Node has no binding for it:
//
//   - the path is resolved one component at a time, each opened O_PATH|O_NOFOLLOW relative to
//     the directory before it (/proc/self/fd/<dir>/<name>), so no link is followed by the kernel
//   - a symbolic link is followed by the walker: a relative target from the link's directory,
//     an absolute target from the root (re-rooted, as the node itself would see it), at most 40
//   - `..` goes up one resolved directory and is refused above the root
//   - where a file is expected only a regular file is read (never a FIFO, a device or a socket),
//     and every read is capped
//
// A fast path covers the common case (a path without links under a root this process can see):
// one open, then the kernel's own name for what it opened (/proc/self/fd/<fd>) must be the
// path asked for, which proves no link was followed; anything else takes the walk.
//
// Every function is synchronous, like the Host reads that call them (see src/host/live.ts).
// Writing inside a root, with the same walk, is src/host/in-root-write.ts; a container's root
// read as the container sees it (for `fs`) is src/host/root-reader.ts.
// Paths are root-relative; a leading "/" means the root. The root itself is trusted: links in
// the root's own path are followed, so /proc/<pid>/root is a valid root.

import {type Dirent, type Stats, closeSync, constants, existsSync, fstatSync, mkdirSync, openSync, readSync, readdirSync, readlinkSync, statSync, statfsSync} from 'node:fs'

/** Linux's O_PATH (the same value on x86-64 and arm64); fs.constants does not list it. */
export const O_PATH = 0o10000000
const {O_NOFOLLOW, O_DIRECTORY, O_RDONLY, O_NONBLOCK} = constants

/** Links followed in one resolution before giving up, as the kernel's ELOOP limit. */
export const MAX_LINKS = 40
/** Default cap of one read: far above any /proc, cgroup or config file, and above kubelet's 10 MiB log rotation. */
export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024

export type Refusal = 'escape' | 'loop' | 'not-regular' | 'too-large' | 'hard-link' | 'not-dir' | 'is-dir' | 'no-root'

const CODES: Record<Refusal, string> = {escape: 'EXDEV', loop: 'ELOOP', 'not-regular': 'EFTYPE', 'too-large': 'EFBIG', 'hard-link': 'EMLINK', 'not-dir': 'ENOTDIR', 'is-dir': 'EISDIR', 'no-root': 'ESRCH'}

/** A path refused on purpose. `code` follows errno names so callers can fold it with fs errors. */
export class InRootError extends Error {
  readonly code: string
  constructor(readonly reason: Refusal, readonly path: string, detail: string) {
    super(`${path}: ${detail}`)
    this.code = CODES[reason]
  }
}

/**
 * An fs-style error (ENOENT, ENOTDIR, ...) for a path the walk did not find. Callers mostly fold
 * it (a file a snapshot does not have), so it carries no stack trace: capturing one per miss was
 * most of a miss's cost.
 */
export function gone(path: string, code = 'ENOENT'): NodeJS.ErrnoException {
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  const error: NodeJS.ErrnoException = new Error(`${code}: ${path}`)
  Error.stackTraceLimit = limit
  error.code = code
  return error
}

/**
 * openSync, or its error when the open fails: for opens that may miss and whose caller folds
 * the miss. Node's error is made without a stack trace (the caller rethrowing one it does not
 * expect captures it then).
 */
function tryOpen(path: string, flags: number): number | NodeJS.ErrnoException {
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    return openSync(path, flags)
  } catch (error) {
    return error as NodeJS.ErrnoException
  } finally {
    Error.stackTraceLimit = limit
  }
}

/** A failed open's error, rethrown with the stack of where it is rethrown. */
function rethrow(error: NodeJS.ErrnoException): never {
  Error.captureStackTrace(error, rethrow)
  throw error
}

/** A path's names, without empty ones and ".". */
export function components(path: string): string[] {
  return path.split('/').filter((c) => c !== '' && c !== '.')
}

export type EntryType = 'dir' | 'link' | 'file' | 'fifo' | 'socket' | 'char device' | 'block device'

export function entryType(s: Stats): EntryType {
  if (s.isDirectory()) return 'dir'
  if (s.isSymbolicLink()) return 'link'
  if (s.isFile()) return 'file'
  if (s.isFIFO()) return 'fifo'
  if (s.isSocket()) return 'socket'
  return s.isCharacterDevice() ? 'char device' : 'block device'
}

// ---------------------------------------------------------------------------------------------
// The walk, over any tree: the filesystem (handles are O_PATH descriptors) or a snapshot
// archive held in memory (handles are its nodes).

export type Lookup<H> = {kind: 'dir' | 'leaf'; handle: H} | {kind: 'link'; handle: H; target: string}

export interface Tree<H> {
  root(): H
  /** The entry `name` of directory `dir`, without following it; undefined when there is none. */
  lookup(dir: H, name: string): Lookup<H> | undefined
  /** Makes directory `name` in `dir` (only when walking to create). */
  mkdir?(dir: H, name: string): void
  release(handle: H): void
}

export interface Found<H> {
  kind: 'dir' | 'leaf' | 'link'
  handle: H
  /** The directory holding it (the root for the root itself), and its name there. */
  parent: H
  name: string
  /** Where it is, root-relative, without links: "/usr/lib/os-release". */
  path: string
  /** Releases every handle the walk still holds. */
  release(): void
}

export interface WalkOptions {
  /** Follow a link in the last component (stat vs lstat). */
  follow: boolean
  /** Make missing directories on the way (and the last component too, when `createLast`). */
  create?: boolean
  createLast?: boolean
  /**
   * `..` at the root: refused (the default), or the root again, as the kernel does for a
   * process's own "/" (and so for a path inside a container, as the container sees it).
   */
  dotdotAtRoot?: 'refuse' | 'stay'
}

/**
 * Resolves `path` inside the tree's root. Throws InRootError for `..` above the root and link
 * loops, an ENOENT/ENOTDIR error for what is not there.
 */
export function walkInRoot<H>(tree: Tree<H>, path: string, options: WalkOptions): Found<H> {
  const stack: Array<{handle: H; name: string}> = [{handle: tree.root(), name: ''}]
  const releaseAll = (extra?: H) => {
    if (extra !== undefined && !stack.some((s) => s.handle === extra)) tree.release(extra)
    for (const s of stack.splice(0)) tree.release(s.handle)
  }
  let todo = components(path)
  let links = 0
  try {
    while (todo.length > 0) {
      const name = todo.shift()!
      if (name === '..') {
        if (stack.length === 1) {
          if (options.dotdotAtRoot === 'stay') continue
          throw new InRootError('escape', path, '".." leads above the root')
        }
        tree.release(stack.pop()!.handle)
        continue
      }
      const dir = stack.at(-1)!.handle
      const last = todo.length === 0
      let got = tree.lookup(dir, name)
      if (!got && options.create && tree.mkdir && (!last || options.createLast)) {
        tree.mkdir(dir, name)
        got = tree.lookup(dir, name)
      }
      if (!got) throw gone(path)
      if (got.kind === 'link' && (!last || options.follow)) {
        tree.release(got.handle)
        if (++links > MAX_LINKS) throw new InRootError('loop', path, `more than ${MAX_LINKS} symbolic links`)
        if (got.target === '') throw gone(path)
        // an absolute target starts again from the root: the root is the machine's "/"
        if (got.target.startsWith('/')) while (stack.length > 1) tree.release(stack.pop()!.handle)
        todo = [...components(got.target), ...todo]
        continue
      }
      if (last) {
        const handle = got.handle
        const where = '/' + [...stack.slice(1).map((s) => s.name), name].join('/')
        return {kind: got.kind, handle, parent: dir, name, path: where, release: () => releaseAll(handle)}
      }
      if (got.kind !== 'dir') {
        tree.release(got.handle)
        throw gone(path, 'ENOTDIR')
      }
      stack.push({handle: got.handle, name})
    }
    // the path ends in a directory already on the stack (the root, or after "..")
    const top = stack.pop()!
    const parent = stack.at(-1)?.handle ?? top.handle
    stack.push(top)
    return {kind: 'dir', handle: top.handle, parent, name: top.name, path: '/' + stack.slice(1).map((s) => s.name).join('/'), release: () => releaseAll()}
  } catch (error) {
    releaseAll()
    throw error
  }
}

// ---------------------------------------------------------------------------------------------
// The filesystem as a tree of O_PATH descriptors.

/**
 * This process's descriptors folder: /proc/<pid>/fd where /proc shows this process under its own
 * PID, else /proc/self/fd. The same folder either way; "self" is a link the kernel resolves
 * again at every lookup, and a scan makes three such lookups per file (about a tenth of a
 * snapshot scan's time on the test VM).
 */
let fdFolder: string | undefined
function ownFds(): string {
  if (fdFolder === undefined) {
    fdFolder = '/proc/self/fd/'
    try {
      // in another PID namespace's /proc, /proc/<our pid> is some other process: self there
      if (readlinkSync('/proc/self') === String(process.pid)) fdFolder = `/proc/${process.pid}/fd/`
    } catch {}
  }
  return fdFolder
}

/** A name inside an open folder (or the descriptor itself), as a path the kernel resolves without following links on the way. */
export const at = (fd: number, name = '') => (name ? `${ownFds()}${fd}/${name}` : `${ownFds()}${fd}`)

let procChecked = false

/** Without /proc (a bare chroot) every name would look absent: say why instead. */
function requireProcSelfFd(): void {
  if (procChecked) return
  if (!existsSync('/proc/self/fd')) throw new Error('/proc is not mounted here, and paths inside a root are resolved through /proc/self/fd: mount /proc (a container runtime always does)')
  procChecked = true
}

/** The filesystem under root as a Tree of O_PATH descriptors. */
export function fsTree(root: string): Tree<number> {
  return {
    root: () => {
      requireProcSelfFd()
      return openSync(root, O_PATH | O_DIRECTORY)
    },
    lookup(dir, name) {
      const fd = tryOpen(at(dir, name), O_PATH | O_NOFOLLOW)
      if (typeof fd !== 'number') return fd.code === 'ENOENT' ? undefined : rethrow(fd)
      try {
        const s = fstatSync(fd)
        if (s.isDirectory()) return {kind: 'dir', handle: fd}
        if (s.isSymbolicLink()) return {kind: 'link', handle: fd, target: readlinkSync(at(dir, name))}
        return {kind: 'leaf', handle: fd}
      } catch (error) {
        closeSync(fd)
        throw error
      }
    },
    mkdir(dir, name) {
      try {
        mkdirSync(at(dir, name), 0o700)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      }
    },
    release: (fd) => closeSync(fd),
  }
}

// The fast path: only under a root whose name this process's /proc/self/fd shows as it is
// (not a /proc/<pid>/root of another mount namespace, whose names would be ambiguous).
const canonicalRoots = new Map<string, string | null>()

function canonicalRoot(root: string): string | null {
  let known = canonicalRoots.get(root)
  if (known !== undefined) return known
  known = null
  try {
    const fd = openSync(root, O_PATH | O_DIRECTORY)
    try {
      const name = readlinkSync(at(fd))
      const opened = fstatSync(fd)
      const seen = name.startsWith('/') ? statSync(name) : undefined
      if (seen && seen.dev === opened.dev && seen.ino === opened.ino) known = name
    } finally {
      closeSync(fd)
    }
  } catch {
    return null
  }
  canonicalRoots.set(root, known)
  return known
}

/** Opens root/path O_PATH|O_NOFOLLOW when no link and no ".." lies on the way; else undefined. */
function openDirect(root: string, path: string, flags = 0): number | undefined {
  const base = canonicalRoot(root)
  if (base === null) return undefined
  const parts = components(path)
  if (parts.includes('..')) return undefined
  const full = (base === '/' ? '' : base) + '/' + parts.join('/')
  const expected = full.length > 1 && full.endsWith('/') ? full.slice(0, -1) : full
  const fd = tryOpen(expected, O_PATH | O_NOFOLLOW | flags)
  // ENOENT here may be a link the kernel followed out of the root: the walk decides
  if (typeof fd !== 'number') return undefined
  try {
    if (readlinkSync(at(fd)) === expected) return fd
  } catch {}
  closeSync(fd)
  return undefined
}

/**
 * True when root/path certainly does not exist: its directory opens directly (no link on the
 * way) and has no such entry. Spares the walk for the common miss (memory.peak on cgroup v1).
 */
function missingDirect(root: string, path: string): boolean {
  const parts = components(path)
  const name = parts.pop()
  if (name === undefined || name === '..') return false
  const dir = openDirect(root, parts.join('/'), O_DIRECTORY)
  if (dir === undefined) return false
  try {
    const fd = tryOpen(at(dir, name), O_PATH | O_NOFOLLOW)
    if (typeof fd !== 'number') return fd.code === 'ENOENT'
    closeSync(fd)
    return false
  } finally {
    closeSync(dir)
  }
}

/** Calls use() with an O_PATH descriptor of root/path and its stat; releases it after. */
function withEntry<T>(root: string, path: string, follow: boolean, use: (fd: number, s: Stats) => T): T {
  const direct = openDirect(root, path)
  if (direct === undefined && missingDirect(root, path)) throw gone(path)
  if (direct !== undefined) {
    try {
      const s = fstatSync(direct)
      if (!(follow && s.isSymbolicLink())) return use(direct, s)
    } finally {
      closeSync(direct)
    }
  }
  const found = walkInRoot(fsTree(root), path, {follow})
  try {
    return use(found.handle, fstatSync(found.handle))
  } finally {
    found.release()
  }
}

// ---------------------------------------------------------------------------------------------
// Reads

export interface ReadInRootOptions {
  /** Refuse a file larger than this (default DEFAULT_MAX_BYTES); with tailBytes, caps the tail. */
  maxBytes?: number
  /** Only the last N bytes. */
  tailBytes?: number
  /** Refuse a regular file with more than one name: in a folder someone else made, it may be any file of this machine. */
  refuseHardLinks?: boolean
}

/** The bytes of a regular file inside root, following links inside it. */
export function readFileInRoot(root: string, path: string, options: ReadInRootOptions = {}): Buffer {
  return withEntry(root, path, true, (fd, s) => readEntry(fd, s, path, options))
}

/** Reads the file an O_PATH descriptor holds, after the checks every read makes. */
function readEntry(fd: number, s: Stats, path: string, options: ReadInRootOptions): Buffer {
  checkEntry(s, path, options)
  // reopening the O_PATH descriptor reads exactly the file the walk found; O_NONBLOCK is
  // moot for a regular file but keeps a file swapped since from blocking
  const readable = openSync(at(fd), O_RDONLY | O_NONBLOCK)
  try {
    return readCapped(readable, s.size, options.maxBytes ?? DEFAULT_MAX_BYTES, options.tailBytes, path)
  } finally {
    closeSync(readable)
  }
}

/** The checks every read makes before reading: a regular file, and one name when hard links are refused. */
function checkEntry(s: Stats, path: string, options: ReadInRootOptions): void {
  if (!s.isFile()) throw new InRootError('not-regular', path, `not a regular file (${entryType(s)})`)
  if (options.refuseHardLinks && s.nlink > 1) throw new InRootError('hard-link', path, `a hard link (${s.nlink} names): refused, it may be any file of this machine`)
}

/**
 * The same files of several directories inside root (every process's /proc/<pid>/{cgroup,
 * status,cmdline}): for each directory, each name's bytes or the error a read of it alone
 * would throw. A directory's parent is opened directly and proved free of links once per call
 * (/proc, for a scan), the directory opened O_PATH|O_NOFOLLOW|O_DIRECTORY below it, and each
 * name O_PATH|O_NOFOLLOW below that. A name is one component (never "..") and the kernel
 * follows no link there, so what opens is an entry of that very directory; it is then checked
 * and read as readFileInRoot does. A link, an odd name, or a directory that does not open that
 * way takes readFileInRoot's own way, walk and all.
 */
export function readFilesInRoot(root: string, dirs: string[], names: string[], options: ReadInRootOptions = {}): Array<Array<Buffer | Error>> {
  // the parents proved this call, closed before it returns
  const parents = new Map<string, Parent | undefined>()
  try {
    const out = new Array<Array<Buffer | Error>>(dirs.length)
    for (let i = 0; i < dirs.length; i++) out[i] = readFolder(root, dirs[i], names, options, parents)
    return out
  } finally {
    for (const parent of parents.values()) if (parent !== undefined) closeSync(parent.fd)
  }
}

/** One directory's files for readFilesInRoot. Loops, not closures: this runs 3000 times a scan. */
function readFolder(root: string, dir: string, names: string[], options: ReadInRootOptions, parents: Map<string, Parent | undefined>): Array<Buffer | Error> {
  const base = dir.endsWith('/') ? dir : dir + '/'
  const out = new Array<Buffer | Error>(names.length)
  const folder = openFolder(root, dir, parents)
  if (folder === undefined || folder === 'gone') {
    for (let i = 0; i < names.length; i++) out[i] = folder === 'gone' ? gone(base + names[i]) : readAlone(root, base + names[i], options)
    return out
  }
  const dirFd = folder.fd
  try {
    // a folder of the kernel's procfs (same filesystem as its proved parent, itself procfs) holds
    // no device, FIFO or socket: its files are opened for reading at once (below)
    const onProc = folder.procDev !== undefined && fstatSync(dirFd).dev === folder.procDev
    for (let i = 0; i < names.length; i++) {
      const name = names[i]
      if (name === '' || name === '.' || name === '..' || name.includes('/')) {
        out[i] = readAlone(root, base + name, options)
        continue
      }
      if (onProc) {
        out[i] = readProcEntry(root, dirFd, base, name, options)
        continue
      }
      const fd = tryOpen(at(dirFd, name), O_PATH | O_NOFOLLOW)
      if (typeof fd !== 'number') {
        out[i] = fd.code === 'ENOENT' ? gone(base + name) : readAlone(root, base + name, options)
        continue
      }
      try {
        const s = fstatSync(fd)
        // a link is followed by the walk, inside the root
        out[i] = s.isSymbolicLink() ? readAlone(root, base + name, options) : readEntry(fd, s, base + name, options)
      } catch (error) {
        out[i] = error as Error
      } finally {
        closeSync(fd)
      }
    }
    return out
  } finally {
    closeSync(dirFd)
  }
}

/**
 * One name of a procfs folder: opened O_RDONLY|O_NOFOLLOW|O_NONBLOCK at once, then checked and
 * read as readEntry does. The name is one component, so no link is followed (a link such as
 * exe or cwd fails ELOOP and takes the walk); procfs has no device, FIFO or socket whose open
 * would do anything, and what opens is the very file an O_PATH open and a reopen would reach.
 */
function readProcEntry(root: string, dirFd: number, base: string, name: string, options: ReadInRootOptions): Buffer | Error {
  const fd = tryOpen(at(dirFd, name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
  if (typeof fd !== 'number') return fd.code === 'ENOENT' ? gone(base + name) : readAlone(root, base + name, options)
  try {
    const s = fstatSync(fd)
    checkEntry(s, base + name, options)
    return readCapped(fd, s.size, options.maxBytes ?? DEFAULT_MAX_BYTES, options.tailBytes, base + name)
  } catch (error) {
    return error as Error
  } finally {
    closeSync(fd)
  }
}

/** A parent folder proved once per readFilesInRoot call; procDev: its st_dev when it is the kernel's procfs. */
interface Parent {
  fd: number
  procDev: number | undefined
}

const PROC_SUPER_MAGIC = 0x9fa0

function proveParent(root: string, path: string): Parent | undefined {
  const fd = openDirect(root, path, O_DIRECTORY)
  if (fd === undefined) return undefined
  let procDev: number | undefined
  try {
    if (statfsSync(at(fd)).type === PROC_SUPER_MAGIC) procDev = fstatSync(fd).dev
  } catch {}
  return {fd, procDev}
}

/** dir as an O_PATH descriptor below its proved parent; 'gone' when it is not there; undefined: let the walk decide. */
function openFolder(root: string, dir: string, parents: Map<string, Parent | undefined>): {fd: number; procDev: number | undefined} | 'gone' | undefined {
  const parts = components(dir)
  const name = parts.pop()
  if (name !== undefined && name !== '..') {
    const parentPath = parts.join('/')
    let parent = parents.get(parentPath)
    if (!parents.has(parentPath)) {
      parent = proveParent(root, parentPath)
      parents.set(parentPath, parent)
    }
    if (parent !== undefined) {
      const fd = tryOpen(at(parent.fd, name), O_PATH | O_NOFOLLOW | O_DIRECTORY)
      if (typeof fd === 'number') return {fd, procDev: parent.procDev}
      // the process exited; a link (ELOOP/ENOTDIR) or anything else is the walk's to resolve
      if (fd.code === 'ENOENT') return 'gone'
    }
  }
  const fd = openDirect(root, dir, O_DIRECTORY)
  if (fd !== undefined) return {fd, procDev: undefined}
  return missingDirect(root, dir) ? 'gone' : undefined
}

function readAlone(root: string, path: string, options: ReadInRootOptions): Buffer | Error {
  try {
    return readFileInRoot(root, path, options)
  } catch (error) {
    return error as Error
  }
}

function readCapped(fd: number, size: number, max: number, tailBytes: number | undefined, path: string): Buffer {
  if (tailBytes !== undefined && size > tailBytes) {
    const want = Math.min(tailBytes, max)
    const buffer = Buffer.allocUnsafe(want)
    let got = 0
    while (got < want) {
      const n = readSync(fd, buffer, got, want - got, size - want + got)
      if (n === 0) break
      got += n
    }
    return buffer.subarray(0, got)
  }
  if (size > max) throw tooLarge(path, max)
  // /proc and cgroup files say size 0: read until EOF, growing the buffer up to the cap. They
  // start in a buffer kept for the next read and are copied out at the end: a scan of /proc
  // reads thousands, and 16 KiB each was garbage for the collector
  let buffer = size > 0 ? Buffer.allocUnsafe(Math.min(max + 1, size + 1)) : max + 1 >= SCRATCH_BYTES ? scratch() : Buffer.allocUnsafe(max + 1)
  let length = 0
  for (;;) {
    if (length === buffer.length) {
      if (length > max) throw tooLarge(path, max)
      const bigger = Buffer.allocUnsafe(Math.min(max + 1, length * 2))
      buffer.copy(bigger, 0, 0, length)
      buffer = bigger
    }
    const room = buffer.length - length
    const n = readSync(fd, buffer, length, room, null)
    if (n === 0) break
    length += n
    if (length > max) throw tooLarge(path, max)
    // a short read that reached the size fstat gave is the end of a regular file (spares the
    // read that returns 0); /proc and cgroup files say size 0 and are read until EOF
    if (n < room && size > 0 && length >= size) break
  }
  const text = tailBytes !== undefined && length > tailBytes ? buffer.subarray(length - tailBytes, length) : buffer.subarray(0, length)
  return buffer === scratchBuffer ? Buffer.from(text) : text
}

// a module function, not a closure per read: the bundle names every closure it makes (keepNames)
function tooLarge(path: string, max: number): InRootError {
  return new InRootError('too-large', path, `larger than ${max} bytes: not read`)
}

const SCRATCH_BYTES = 16 * 1024
let scratchBuffer: Buffer | undefined
const scratch = () => (scratchBuffer ??= Buffer.allocUnsafe(SCRATCH_BYTES))

/** lstat inside root: a link in the last component is reported as the link. */
export function lstatInRoot(root: string, path: string): Stats {
  return withEntry(root, path, false, (_fd, s) => s)
}

/** stat inside root: links followed, inside the root. */
export function statInRoot(root: string, path: string): Stats {
  return withEntry(root, path, true, (_fd, s) => s)
}

/** The entries of a directory inside root (links inside the root followed to reach it). */
export function readDirInRoot(root: string, path: string): Dirent[] {
  return withEntry(root, path, true, (fd, s) => {
    if (!s.isDirectory()) throw new InRootError('not-dir', path, `not a directory (${entryType(s)})`)
    return readdirSync(at(fd), {withFileTypes: true})
  })
}

/** The target of a symbolic link inside root, as written (not resolved). */
export function readLinkInRoot(root: string, path: string): string {
  const parts = components(path)
  const name = parts.pop()
  if (name === undefined || name === '..') throw gone(path, 'EINVAL')
  const parent = parts.join('/')
  const direct = openDirect(root, parent, O_DIRECTORY)
  if (direct !== undefined) {
    try {
      return readLinkQuietly(at(direct, name))
    } finally {
      closeSync(direct)
    }
  }
  const found = walkInRoot(fsTree(root), parent, {follow: true})
  try {
    if (found.kind !== 'dir') throw gone(path, 'ENOTDIR')
    return readLinkQuietly(at(found.handle, name))
  } finally {
    found.release()
  }
}

// what a readlink of a name that may not be a link meets; folded by the callers
const LINK_MISSES = new Set(['EINVAL', 'ENOENT', 'ENOTDIR'])

/** readlinkSync; its expected failures (not a link, not there) are thrown without a stack trace. */
function readLinkQuietly(path: string): string {
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  let target: string | NodeJS.ErrnoException
  try {
    target = readlinkSync(path)
  } catch (error) {
    target = error as NodeJS.ErrnoException
  } finally {
    Error.stackTraceLimit = limit
  }
  if (typeof target === 'string') return target
  if (target.code !== undefined && LINK_MISSES.has(target.code)) throw target
  return rethrow(target)
}

/** Where path leads inside root, root-relative and without links ("/usr/lib/os-release"); for display. */
export function resolveInRoot(root: string, path: string, options: {follow?: boolean} = {}): string {
  const found = walkInRoot(fsTree(root), path, {follow: options.follow ?? true})
  found.release()
  return found.path
}
