// Finding the programs a sandbox runs, on the live machine's PATH.

import {accessSync, constants} from 'node:fs'
import {realpath} from 'node:fs/promises'
import {join} from 'node:path'

/**
 * Whether path exists, asked in place: a create asks on its critical path (the image layer), where
 * a libuv pool completion waits for the main thread's next turn behind the other lanes' spawns.
 */
export async function exists(path: string): Promise<boolean> {
  try {
    accessSync(path)
    return true
  } catch {
    return false
  }
}

/**
 * A program on PATH (or the sbin folders root has), or undefined. Each folder is asked in place
 * (synchronously): a create looks up some fifteen programs in up to ten folders each before its
 * first step, microseconds each in place, but one libuv pool round trip after another (14-40 ms
 * in all on a busy VM) through fs/promises.
 */
export async function which(program: string): Promise<string | undefined> {
  if (program.includes('/')) return (await exists(program)) ? program : undefined
  const dirs = (process.env.PATH || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':')
  for (const dir of [...dirs, '/usr/sbin', '/sbin']) {
    const candidate = join(dir, program)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {}
  }
  return undefined
}

/** The file a program path names, its symlinks followed (undefined when there is none). */
export async function realProgramPath(path: string): Promise<string | undefined> {
  return realpath(path).catch(() => undefined)
}
