// The snapshot folder layout (docs/snapshot.md):
//   meta.json                  who, where, when, which nodedoc
//   fs/<host path>             files as read, links as links, listed folders as folders
//   stat.json                  {"<host path>": {kind, size, mtimeMs, ino, birthtimeMs?}} for every stat nodedoc made
//   cmd/<argv>.out             stdout of a program; <argv>.err stderr; <argv>.exit a non-zero exit code
//   answers/<name>             answers of services the node runs (the CRI socket's view, as JSON)
// <argv> is the argument list joined by spaces with "%" and "/" escaped as %25 and %2F.

import {NodedocError} from '../errors.js'
import type {DirEntry, EntryKind} from './host.js'

export const SNAPSHOT_FORMAT = 1

/**
 * What a snapshot may hold, read from anyone's folder or archive (docs/snapshot.md). A
 * snapshot's own files are small (logs are kept as 16 KiB tails); program outputs are the big
 * ones (iptables-save of 10k services: tens of MiB).
 */
export const SNAPSHOT_LIMITS = {
  /** one file under fs/ */
  fileBytes: 32 * 1024 * 1024,
  /** one cmd/ output, answers/ file, meta.json or stat.json */
  outputBytes: 256 * 1024 * 1024,
  /** everything an archive expands to, as its members' headers declare */
  archiveBytes: 1024 * 1024 * 1024,
  /** members of an archive */
  archiveEntries: 1_000_000,
}

/** A snapshot that cannot be read at all, in one line naming the file: not a finding (1), nor a usage error (2), so exit 3. */
export class SnapshotError extends NodedocError {
  constructor(message: string) {
    super(message, 3)
  }
}

/**
 * What a snapshot is stored in: a folder (src/host/snapshot-folder.ts) or an archive read once
 * into memory (src/host/snapshot-archive.ts). Paths as in the layout: fs/..., cmd/..., meta.json.
 * Each throws what it refuses (InRootError, ENOENT); the snapshot host turns that into warnings.
 */
export interface SnapshotStore {
  read(rel: string, tailBytes?: number): Buffer
  /** The same files of several folders, each its bytes or what read would throw (a folder store resolves each folder once). */
  readMany?(dirs: string[], names: string[]): Array<Array<Buffer | Error>>
  list(rel: string): DirEntry[]
  link(rel: string): string
  lstat(rel: string): {kind: EntryKind; size: number}
}

export function sizeLimit(rel: string): number {
  return rel.startsWith('fs/') ? SNAPSHOT_LIMITS.fileBytes : SNAPSHOT_LIMITS.outputBytes
}

export interface SnapshotMeta {
  format: number
  hostname: string
  kernel: string
  capturedAt: string
  nodedocVersion: string
  hostRoot: string
}

export function commandFileName(argv: string[]): string {
  return argv.join(' ').replace(/%/g, '%25').replace(/\//g, '%2F')
}

/** Host-absolute path to its place under fs/. */
export function fsRelative(path: string): string {
  return 'fs' + (path.startsWith('/') ? path : '/' + path)
}
