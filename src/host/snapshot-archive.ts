import {closeSync, constants, fstatSync, openSync, readSync} from 'node:fs'
import * as tar from 'tar'
import type {DirEntry, EntryKind, Warnings} from './host.js'
import {InRootError, type Tree, walkInRoot} from './in-root.js'
import {SNAPSHOT_LIMITS, SnapshotError, type SnapshotStore, sizeLimit} from './snapshot-layout.js'

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
export class TarStore implements SnapshotStore {
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
