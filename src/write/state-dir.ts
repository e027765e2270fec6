// The folders under /run/nodedoc that sandboxes share, and each sandbox's own.

import {rm, rmdir} from 'node:fs/promises'

export async function removeDir(path: string): Promise<void> {
  await rm(path, {recursive: true, force: true})
}

/** Folders shared by all sandboxes, removed in order once the last sandbox is gone from them. */
export async function removeIfEmpty(paths: string[]): Promise<void> {
  for (const path of paths) {
    try {
      await rmdir(path)
    } catch {
      // ENOTEMPTY: another sandbox still uses it; ENOENT: already gone
    }
  }
}
