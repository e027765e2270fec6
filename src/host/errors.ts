import type {Warnings} from './host.js'
import {InRootError, type Refusal} from './in-root.js'

/** Errors that mean "this is gone": a file that never existed or a process that exited mid-scan. */
const GONE = new Set(['ENOENT', 'ESRCH', 'ENOTDIR', 'ENXIO'])
const DENIED = new Set(['EACCES', 'EPERM'])

const REFUSED: Record<Refusal, string> = {
  escape: 'refused: the path leads out of the root (".." or a link)',
  loop: 'refused: too many symbolic links',
  'not-regular': 'refused: not a regular file',
  'too-large': 'refused: larger than the read cap',
  'hard-link': 'refused: a hard link',
  'not-dir': 'not a directory',
  'is-dir': 'is a directory',
  'no-root': 'the root is not there (its process exited?)',
}

/** Maps an fs error to undefined, recording a warning unless the thing simply vanished. */
export function absorb(error: unknown, path: string, warnings: Warnings): undefined {
  if (error instanceof InRootError) {
    warnings.add(`refused:${error.reason}`, REFUSED[error.reason], path)
    return undefined
  }
  const code = (error as NodeJS.ErrnoException)?.code
  if (code && GONE.has(code)) return undefined
  if (code && DENIED.has(code)) {
    warnings.add('denied', 'permission denied; run as root for a full answer', path)
    return undefined
  }
  // EINVAL and friends: some /proc and /sys files refuse reads; say so, carry on.
  warnings.add(`io:${code ?? 'unknown'}`, `could not read (${code ?? String(error)})`, path)
  return undefined
}

/** A folder's files as readFile gives each: text, or undefined with the error absorbed. */
export function texts(files: Array<Buffer | Error>, dir: string, names: string[], warnings: Warnings): Array<string | undefined> {
  const out = new Array<string | undefined>(files.length)
  for (let i = 0; i < files.length; i++) {
    const file = files[i]
    out[i] = file instanceof Error ? absorb(file, `${dir}/${names[i]}`, warnings) : file.toString('utf8')
  }
  return out
}
