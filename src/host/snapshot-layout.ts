// The snapshot folder layout (docs/snapshot.md):
//   meta.json                  who, where, when, which nodedoc
//   fs/<host path>             files as read, links as links, listed folders as folders
//   stat.json                  {"<host path>": {kind, size, mtimeMs, ino, birthtimeMs?}} for every stat nodedoc made
//   cmd/<argv>.out             stdout of a program; <argv>.err stderr; <argv>.exit a non-zero exit code
//   answers/<name>             answers of services the node runs (the CRI socket's view, as JSON)
// <argv> is the argument list joined by spaces with "%" and "/" escaped as %25 and %2F.

export const SNAPSHOT_FORMAT = 1

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
