// A test file's own folder under the system's temp dir. Its path is known at once, so that tables
// built while tests are collected (it.each) can name it; the folder itself is made in beforeAll
// and removed in afterAll. vitest runs neither hook for a file whose tests are all filtered out
// (-t): made at collection time instead, the folder would be left behind by every such run.
import {randomBytes} from 'node:crypto'
import {mkdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll} from 'vitest'

/**
 * A folder named `prefix` and random characters, private to this user (0700), made before the
 * tests of the suite it is called in and filled by `fill`, removed after them. Made without
 * `recursive`: a path that is already there fails the suite, it is never taken over or removed.
 */
export function tempFolder(prefix: string, fill?: (folder: string) => void | Promise<void>): string {
  const folder = join(tmpdir(), `${prefix}${randomBytes(6).toString('hex')}`)
  let made = false
  beforeAll(async () => {
    mkdirSync(folder, {mode: 0o700})
    made = true
    await fill?.(folder)
  })
  afterAll(() => {
    if (made) rmSync(folder, {recursive: true, force: true})
  })
  return folder
}
