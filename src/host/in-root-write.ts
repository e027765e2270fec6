// Writing inside a root (the snapshot writer, src/host/recording.ts): directories made as
// needed, links found on the way followed inside the root (src/host/in-root.ts), and every file
// created O_CREAT|O_EXCL|O_NOFOLLOW: whatever was at the name (a file, a link someone planted)
// is unlinked first, never written through.

import {type Stats, closeSync, constants, lstatSync, openSync, readlinkSync, symlinkSync, unlinkSync, writeSync} from 'node:fs'
import {InRootError, MAX_LINKS, at, components, fsTree, gone, walkInRoot} from './in-root.js'

const {O_NOFOLLOW, O_WRONLY, O_CREAT, O_EXCL} = constants

/**
 * Calls use() with the directory that holds root/path (made as needed) and the name in it.
 * With followLast, a link already at path is followed inside the root, as a write to it on the
 * node would be: the write lands where the link leads, and the link stays.
 */
function withParent<T>(root: string, path: string, followLast: boolean, use: (dir: number, name: string) => T): T {
  let want = path
  for (let links = 0; ; links++) {
    const parts = components(want)
    const name = parts.pop()
    if (name === undefined || name === '..') throw new InRootError('escape', path, 'no name to create')
    const found = walkInRoot(fsTree(root), parts.join('/'), {follow: true, create: true, createLast: true})
    try {
      if (found.kind !== 'dir') throw gone(path, 'ENOTDIR')
      let target: string | undefined
      if (followLast) {
        try {
          if (lstatSync(at(found.handle, name)).isSymbolicLink()) target = readlinkSync(at(found.handle, name))
        } catch {}
      }
      if (target === undefined) return use(found.handle, name)
      if (links >= MAX_LINKS) throw new InRootError('loop', path, `more than ${MAX_LINKS} symbolic links`)
      want = target.startsWith('/') ? target : `${found.path}/${target}`
    } finally {
      found.release()
    }
  }
}

function clear(dir: number, name: string, path: string): void {
  let s: Stats
  try {
    s = lstatSync(at(dir, name))
  } catch {
    return
  }
  if (s.isDirectory()) throw gone(path, 'EISDIR')
  unlinkSync(at(dir, name))
}

export interface WriteInRootOptions {
  /** File mode (default 0600). */
  mode?: number
  /** Write where a link already at path leads (inside the root) instead of replacing the link. */
  followLast?: boolean
}

/** Writes a new regular file at root/path, replacing what was there (never writing through it). */
export function writeFileInRoot(root: string, path: string, data: string | Buffer, options: WriteInRootOptions = {}): void {
  withParent(root, path, options.followLast ?? false, (dir, name) => {
    clear(dir, name, path)
    const fd = openSync(at(dir, name), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, options.mode ?? 0o600)
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data) : data
      let done = 0
      while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done)
    } finally {
      closeSync(fd)
    }
  })
}

/** Makes a symbolic link at root/path, replacing a file or link that was there. */
export function symlinkInRoot(root: string, path: string, target: string): void {
  withParent(root, path, false, (dir, name) => {
    clear(dir, name, path)
    symlinkSync(target, at(dir, name))
  })
}

/** Makes directory root/path and its missing parents (mode 0700). */
export function mkdirInRoot(root: string, path: string): void {
  const found = walkInRoot(fsTree(root), path, {follow: true, create: true, createLast: true})
  found.release()
  if (found.kind !== 'dir') throw gone(path, 'EEXIST')
}
