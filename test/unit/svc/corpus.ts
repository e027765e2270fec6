import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parse} from 'yaml'

/** ../shared/corpus beside the repo: real kube-proxy and iptables-save outputs (never copied in). */
export const CORPUS = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..', 'shared/corpus')
export const HAVE_CORPUS = existsSync(CORPUS)
export const NO_CORPUS = `../shared/corpus not found at ${CORPUS}: svc corpus tests skipped`
if (!HAVE_CORPUS) console.warn(NO_CORPUS)

export interface Fixture {
  name: string
  path: string
  text: string
  oracle: Record<string, any> | undefined
  source: string
}

/** Fixtures of one corpus folder with their oracle (X.expect.yaml or X-stem.expect.yaml) and source notes. */
export function fixtures(folder: string): Fixture[] {
  if (!HAVE_CORPUS) return []
  const dir = join(CORPUS, folder)
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter((f) => !f.endsWith('.source.txt') && !f.endsWith('.expect.yaml'))
    .sort()
    .map((name) => {
      const path = join(dir, name)
      const oracle = [`${path}.expect.yaml`, path.replace(/\.[a-z]+$/, '.expect.yaml')].find((p) => existsSync(p))
      const source = existsSync(`${path}.source.txt`) ? readFileSync(`${path}.source.txt`, 'utf8') : ''
      return {name, path, text: readFileSync(path, 'utf8'), oracle: oracle ? parse(readFileSync(oracle, 'utf8')) : undefined, source}
    })
}

/** "REJECT (filter KUBE-SERVICES \"has no endpoints\")" -> {target, table, chain} */
export function oracleVerdict(text: string): {target: string; table: string; chain: string} {
  const m = /^(\w+)\s*\((\w+)\s+([\w-]+)/.exec(text)
  if (!m) throw new Error(`unreadable oracle verdict: ${text}`)
  return {target: m[1], table: m[2], chain: m[3]}
}
