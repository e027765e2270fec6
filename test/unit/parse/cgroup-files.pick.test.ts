// pickFlatKeyed reads only the keys asked for; on every real "key value" file in the fixtures
// it must give what the full parser gives.
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {parseFlatKeyed, pickFlatKeyed} from '../../../src/parse/cgroup-files.js'

const FIXTURES = join(import.meta.dirname, '../../fixtures')
const KEYED = /(memory\.stat|cpu\.stat|memory\.oom_control|pids\.events)$/

function keyedFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? keyedFiles(path) : KEYED.test(name) ? [path] : []
  })
}

describe('pickFlatKeyed', () => {
  const files = [...keyedFiles(join(FIXTURES, 'cgroup-v1')), ...keyedFiles(join(FIXTURES, 'cgroup-v2'))]

  it.each(files.map((f) => [f.slice(FIXTURES.length + 1), f]))('agrees with parseFlatKeyed on %s', (_name, path) => {
    const text = readFileSync(path, 'utf8')
    const full = parseFlatKeyed(text)
    expect(full.size).toBeGreaterThan(0)
    const keys = [...full.keys()]
    expect(pickFlatKeyed(text, keys)).toEqual(Object.fromEntries(keys.map((k) => [k, full.get(k)])))
    // a key that is a prefix of another is not mistaken for it; an absent key is null
    expect(pickFlatKeyed(text, ['total', 'no_such_key'])).toEqual({total: null, no_such_key: null})
  })

  it('reads nothing from nothing', () => {
    expect(pickFlatKeyed(undefined, ['oom_kill'])).toEqual({oom_kill: null})
    expect(files.length).toBeGreaterThanOrEqual(16)
  })
})
