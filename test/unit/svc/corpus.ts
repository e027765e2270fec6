import {CORPUS, HAVE_CORPUS, corpusFiles} from '../../helpers/corpus.js'

// The svc suites' view of ../shared/corpus (test/helpers/corpus.ts reads it).
export {CORPUS, HAVE_CORPUS}
export const NO_CORPUS = `../shared/corpus not found at ${CORPUS}: svc corpus tests skipped`

export interface Fixture {
  name: string
  path: string
  text: string
  oracle: Record<string, any> | undefined
  source: string
}

/** Fixtures of one corpus folder with their oracle (X.expect.yaml or X-stem.expect.yaml) and source notes. */
export function fixtures(folder: string): Fixture[] {
  return corpusFiles(folder).map(({expect, ...file}) => ({...file, oracle: expect}))
}

/** "REJECT (filter KUBE-SERVICES \"has no endpoints\")" -> {target, table, chain} */
export function oracleVerdict(text: string): {target: string; table: string; chain: string} {
  const m = /^(\w+)\s*\((\w+)\s+([\w-]+)/.exec(text)
  if (!m) throw new Error(`unreadable oracle verdict: ${text}`)
  return {target: m[1], table: m[2], chain: m[3]}
}
