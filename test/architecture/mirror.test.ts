// test/ mirrors the code: the tests of src/parse/iptables.ts are test/unit/parse/iptables.test.ts
// (or iptables.<aspect>.test.ts, e.g. iptables-trace.corpus.test.ts); test/unit/scripts/ holds
// the tests of scripts/. Integration tests live in a folder named for the command or src/ family
// they drive (test/integration/pod/ for `nodedoc pod`).
import {existsSync, readdirSync} from 'node:fs'
import {dirname, join, relative, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

function testFiles(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) => {
    const path = join(dir, e.name)
    if (e.isDirectory()) return testFiles(path)
    return e.name.endsWith('.test.ts') ? [path] : []
  })
}

/** The source file a unit test file names, or undefined when it names none. */
export function sourceOf(testFile: string): string | undefined {
  const [folder, ...rest] = relative(join(REPO, 'test/unit'), testFile).split('/')
  const name = rest.pop() ?? folder
  const base = name.split('.')[0]
  const dir = folder === 'scripts' || folder === 'commands' ? join(REPO, folder, ...rest) : join(REPO, 'src', ...(rest.length || name !== folder ? [folder, ...rest] : []))
  return ['.ts', '.mjs'].map((ext) => join(dir, base + ext)).find((p) => existsSync(p))
}

describe('test/ mirrors src/', () => {
  it('every unit test file is named after the file it tests, in the same folder', () => {
    const files = testFiles(join(REPO, 'test/unit'))
    expect(files.length).toBeGreaterThan(20)
    expect(files.filter((f) => !sourceOf(f)).map((f) => relative(REPO, f))).toEqual([])
  })

  it('names a file that exists (and nothing else)', () => {
    expect(sourceOf(join(REPO, 'test/unit/parse/proc.test.ts'))).toBe(join(REPO, 'src/parse/proc.ts'))
    expect(sourceOf(join(REPO, 'test/unit/svc/iptables-trace.corpus.test.ts'))).toBe(join(REPO, 'src/svc/iptables-trace.ts'))
    expect(sourceOf(join(REPO, 'test/unit/parse/no-such-parser.test.ts'))).toBeUndefined()
    expect(sourceOf(join(REPO, 'test/unit/proc.test.ts'))).toBeUndefined()
  })

  it('every integration folder is a command or a src/ family', () => {
    const folders = readdirSync(join(REPO, 'test/integration'), {withFileTypes: true}).filter((e) => e.isDirectory()).map((e) => e.name)
    const known = (f: string) => existsSync(join(REPO, 'src', f)) || existsSync(join(REPO, 'commands', `${f}.ts`)) || existsSync(join(REPO, 'commands', f))
    expect(folders.filter((f) => !known(f))).toEqual([])
    expect(readdirSync(join(REPO, 'test/integration')).filter((f) => f.endsWith('.test.ts'))).toEqual([])
  })
})
