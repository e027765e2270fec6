// A root as the Host hands it to a command family (`fs`): a container's /proc/<pid>/root, or an
// overlay layer folder, walked as the container sees it (`..` at the root stays there, as the
// kernel does for a process's own "/"), with what an `ls -l` shows of each entry, and reads cut
// at a cap rather than refused. Every path goes through the walk of src/host/in-root.ts: no link
// is ever followed out of the root.

import {type BigIntStats, closeSync, constants, fstatSync, lstatSync, openSync, readSync, readdirSync, readlinkSync} from 'node:fs'
import {type Found, InRootError, O_PATH, at, entryType, fsTree, walkInRoot} from './in-root.js'

const {O_DIRECTORY, O_RDONLY, O_NONBLOCK} = constants

export type RootEntryType = 'file' | 'dir' | 'link' | 'fifo' | 'socket' | 'char' | 'block' | 'unknown'

/** One name inside the root, as lstat sees it. */
export interface RootEntry {
  name: string
  /** where it is inside the root, every link on the way followed */
  path: string
  type: RootEntryType
  size: number
  /** permission bits with setuid, setgid and sticky */
  mode: number
  uid: number
  gid: number
  mtimeMs: number
  /** what a link says; null for anything else */
  linkTarget: string | null
}

export interface RootListing {
  path: string
  entries: RootEntry[]
  /** the directory holds more than the limit asked for */
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

/** A root filesystem seen from the node, every path resolved inside it. Missing paths answer undefined. */
export interface RootReader {
  /** The entry a path names; a link in the last component is not followed. */
  lstat(path: string): Promise<RootEntry | undefined>
  /** The entry a path leads to, every link followed inside the root. */
  stat(path: string): Promise<RootEntry | undefined>
  /** A directory's entries (at most `limit`, in name order). */
  list(path: string, limit: number): Promise<RootListing | undefined>
  /** At most maxBytes of a regular file; never a fifo, a device or a socket. */
  read(path: string, maxBytes: number): Promise<RootFile | undefined>
}

function rootEntryType(s: BigIntStats): RootEntryType {
  if (s.isSymbolicLink()) return 'link'
  if (s.isDirectory()) return 'dir'
  if (s.isFile()) return 'file'
  if (s.isFIFO()) return 'fifo'
  if (s.isSocket()) return 'socket'
  if (s.isCharacterDevice()) return 'char'
  if (s.isBlockDevice()) return 'block'
  return 'unknown'
}

function rootEntry(s: BigIntStats, name: string, path: string, linkTarget: string | null): RootEntry {
  return {name, path, type: rootEntryType(s), size: Number(s.size), mode: Number(s.mode) & 0o7777, uid: Number(s.uid), gid: Number(s.gid), mtimeMs: Number(s.mtimeMs), linkTarget}
}

const isMissing = (error: unknown) => ['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '')

class LiveRootReader implements RootReader {
  /** `locate` names the root's real path; asked at each walk, so a root that went is seen going. */
  constructor(private readonly locate: () => string) {}

  /** The walk, as the container sees it; undefined for a path that is not there. */
  private find(path: string, follow: boolean): Found<number> | undefined {
    // a root that cannot be opened is a process that exited (or a layer folder removed)
    let root: string
    try {
      root = this.locate()
      closeSync(openSync(root, O_PATH | O_DIRECTORY))
    } catch {
      throw new InRootError('no-root', '/', 'the root is not there (its process exited?)')
    }
    for (let attempt = 0; ; attempt++) {
      try {
        return walkInRoot(fsTree(root), path, {follow, dotdotAtRoot: 'stay'})
      } catch (error) {
        if (isMissing(error)) return undefined
        // EINVAL: a link the walk opened was swapped for something else before its target was
        // read (a container rewriting itself): walk again, then give up as not there
        if ((error as NodeJS.ErrnoException).code !== 'EINVAL') throw error
        if (attempt === 2) return undefined
      }
    }
  }

  private entryOf(found: Found<number>): RootEntry {
    const s = fstatSync(found.handle, {bigint: true})
    const target = s.isSymbolicLink() ? readlinkSync(at(found.parent, found.name)) : null
    return rootEntry(s, found.path === '/' ? '/' : found.name, found.path, target)
  }

  private async entry(path: string, follow: boolean): Promise<RootEntry | undefined> {
    const found = this.find(path, follow)
    if (!found) return undefined
    try {
      return this.entryOf(found)
    } finally {
      found.release()
    }
  }

  lstat(path: string): Promise<RootEntry | undefined> {
    return this.entry(path, false)
  }

  stat(path: string): Promise<RootEntry | undefined> {
    return this.entry(path, true)
  }

  async list(path: string, limit: number): Promise<RootListing | undefined> {
    const found = this.find(path, true)
    if (!found) return undefined
    try {
      if (found.kind !== 'dir') throw new InRootError('not-dir', found.path, 'not a directory')
      const names = readdirSync(at(found.handle)).sort()
      const entries: RootEntry[] = []
      for (const name of names.slice(0, limit)) {
        // each name looked up under the held directory, not followed: a running container's
        // entries come and go, and one that went is simply not listed
        try {
          const s = lstatSync(at(found.handle, name), {bigint: true})
          entries.push(rootEntry(s, name, found.path === '/' ? `/${name}` : `${found.path}/${name}`, s.isSymbolicLink() ? readlinkSync(at(found.handle, name)) : null))
        } catch (error) {
          if (!isMissing(error)) throw error
        }
      }
      return {path: found.path, entries, truncated: names.length > limit}
    } finally {
      found.release()
    }
  }

  async read(path: string, maxBytes: number): Promise<RootFile | undefined> {
    const found = this.find(path, true)
    if (!found) return undefined
    try {
      const s = fstatSync(found.handle)
      if (s.isDirectory()) throw new InRootError('is-dir', found.path, 'is a directory')
      if (!s.isFile()) throw new InRootError('not-regular', found.path, `not a regular file (${entryType(s)}); only regular files are read`)
      // reopening the O_PATH descriptor opens the very file the walk found
      const fd = openSync(at(found.handle), O_RDONLY | O_NONBLOCK | constants.O_NOCTTY)
      try {
        // a size of 0 may still hold text (procfs, sysfs): read up to the cap and see
        const data = Buffer.alloc(s.size > 0 ? Math.min(maxBytes, s.size) : maxBytes)
        let got = 0
        while (got < data.length) {
          const n = readSync(fd, data, got, data.length - got, got)
          if (n === 0) break
          got += n
        }
        const more = got === data.length && readSync(fd, Buffer.alloc(1), 0, 1, got) > 0
        return {path: found.path, size: Math.max(s.size, got), data: data.subarray(0, got), truncated: more}
      } finally {
        closeSync(fd)
      }
    } finally {
      found.release()
    }
  }
}

/** The live machine's view of a root: `root` is the real path (root prefix included) to open. */
export function liveRootReader(root: string | (() => string)): RootReader {
  return new LiveRootReader(typeof root === 'string' ? () => root : root)
}

/** A root a Host can read inside; refused (no-root) for a host that cannot (a snapshot records no container files). */
export function rootReader(host: {inRoot?(root: string): RootReader}, root: string): RootReader {
  if (host.inRoot) return host.inRoot(root)
  throw new InRootError('no-root', '/', 'this host cannot read inside a root (a snapshot never records container files)')
}
