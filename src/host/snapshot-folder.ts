import {lstatSync, realpathSync} from 'node:fs'
import type {DirEntry, EntryKind} from './host.js'
import {lstatInRoot, readDirInRoot, readFileInRoot, readFilesInRoot, readLinkInRoot} from './in-root.js'
import {SNAPSHOT_LIMITS, type SnapshotStore, sizeLimit} from './snapshot-layout.js'

const kindOf = (d: {isSymbolicLink(): boolean; isDirectory(): boolean; isFile(): boolean}): EntryKind =>
  d.isSymbolicLink() ? 'link' : d.isDirectory() ? 'dir' : d.isFile() ? 'file' : 'other'

/**
 * A snapshot folder. fs/ is the captured node's "/": paths under it resolve inside it; the
 * snapshot's own files resolve inside the folder. Hard links are refused: in a folder someone
 * else made, one may be any file of this machine (nodedoc never writes one).
 */
export class DirStore implements SnapshotStore {
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

  readMany(dirs: string[], names: string[]): Array<Array<Buffer | Error>> {
    const options = {maxBytes: SNAPSHOT_LIMITS.fileBytes, refuseHardLinks: true}
    // one batch in fs/ (a scan's /proc/<pid> folders); the snapshot's own folders one by one
    if (this.fsRoot !== undefined && dirs.every((d) => d.startsWith('fs/'))) return readFilesInRoot(this.fsRoot, dirs.map((d) => d.slice(2)), names, options)
    return dirs.map((dir) => {
      const [root, path] = this.place(dir)
      return readFilesInRoot(root, [path], names, {...options, maxBytes: sizeLimit(dir + '/')})[0]
    })
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
