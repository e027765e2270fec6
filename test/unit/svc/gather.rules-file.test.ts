import {truncateSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {RULES_MAX_BYTES, readRulesFile} from '../../../src/svc/gather.js'
import {tempFolder} from '../../helpers/temp-folder.js'

const dir = tempFolder('nd-rules-file-')

// sparse files: the size is what the cap looks at, no disk is used
function sized(name: string, bytes: number): string {
  const file = join(dir, name)
  writeFileSync(file, '')
  truncateSync(file, bytes)
  return file
}

describe('readRulesFile', () => {
  it('reads a save the size of a 30k-service node (~78 MiB), past the 64 MiB default cap', async () => {
    const text = await readRulesFile(sized('30k.save', 78 * 1024 * 1024), dir)
    expect(text.length).toBe(78 * 1024 * 1024)
  })

  it('refuses a file over its own cap in one line naming the file, unread', async () => {
    await expect(readRulesFile(sized('huge.save', RULES_MAX_BYTES + 1), dir)).rejects.toThrow(/huge\.save: larger than 268435456 bytes/)
  })
})
