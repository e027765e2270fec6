import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {expect} from 'vitest'
import {parse} from 'yaml'

/** ../shared/corpus beside the project: real outputs of real Kubernetes components (never copied in). */
export const CORPUS = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/corpus')
export const HAVE_CORPUS = existsSync(CORPUS)
export const NO_CORPUS_MESSAGE = `../shared/corpus not found at ${CORPUS}: corpus tests skipped`

if (!HAVE_CORPUS) console.warn(NO_CORPUS_MESSAGE)

export interface CorpusFile {
  name: string
  path: string
  text: string
  /** the .expect.yaml oracle, where there is one */
  expect: Record<string, unknown> | undefined
  /** the .source.txt provenance notes ('' where absent) */
  source: string
}

/** The fixtures of one corpus folder (not the .source.txt / .expect.yaml companions). */
export function corpusFiles(folder: string): CorpusFile[] {
  if (!HAVE_CORPUS) return []
  const dir = join(CORPUS, folder)
  // the corpus is here but the folder is not: a renamed folder must fail, not test nothing
  if (!existsSync(dir)) throw new Error(`${dir}: no such corpus folder`)
  return readdirSync(dir)
    .filter((f) => !f.endsWith('.source.txt') && !f.endsWith('.expect.yaml'))
    .sort()
    .map((name) => {
      const path = join(dir, name)
      const oracle = [`${path}.expect.yaml`, path.replace(/\.[a-z]+$/, '.expect.yaml')].find((p) => existsSync(p))
      const source = existsSync(`${path}.source.txt`) ? readFileSync(`${path}.source.txt`, 'utf8') : ''
      return {name, path, text: readFileSync(path, 'utf8'), expect: oracle ? readOracle(readFileSync(oracle, 'utf8')) : undefined, source}
    })
}

/**
 * Every key of an oracle is one the test checks or one it names as a note for people: a
 * misspelled or new key fails instead of being skipped in silence.
 */
export function expectOracleKeys(oracle: object, checked: readonly string[], notes: readonly string[], where: string): void {
  const unread = Object.keys(oracle).filter((k) => !checked.includes(k) && !notes.includes(k))
  expect(unread, `${where}: oracle keys no test reads (misspelled?)`).toEqual([])
}

/** Oracles are YAML; a few hold a line YAML refuses (a flow list with a colon): read those line by line. */
function readOracle(text: string): Record<string, unknown> {
  try {
    return parse(text)
  } catch {
    const out: Record<string, unknown> = {}
    for (const line of text.split('\n')) {
      try {
        Object.assign(out, parse(line) ?? {})
      } catch {
        // a line even YAML alone cannot read is a note for people
      }
    }
    return out
  }
}
