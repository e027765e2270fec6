// The bundle changes a few lines of its libraries so that they do less at start
// (scripts/build-bundle.mjs, START_TRIMS). Where a change keeps a function, it must keep what the
// function answers.
import {readFileSync} from 'node:fs'
import Module, {createRequire} from 'node:module'
import {dirname, join} from 'node:path'
import {describe, expect, it} from 'vitest'
// @ts-expect-error a build script, not typed
import {START_TRIMS} from '../../../scripts/build-bundle.mjs'

const repo = join(dirname(new URL(import.meta.url).pathname), '..', '..', '..')
const require = createRequire(join(repo, 'package.json'))

/** Evaluates a CommonJS file's text as if it were that file, and returns its exports. */
function evaluate(file: string, text: string): unknown {
  const module = new Module(file)
  module.filename = file
  module.paths = (Module as unknown as {_nodeModulePaths(dir: string): string[]})._nodeModulePaths(dirname(file))
  ;(module as unknown as {_compile(text: string, file: string): void})._compile(text, file)
  return module.exports
}

describe('string-width with the printable-ASCII shortcut', () => {
  const file = require.resolve('string-width')
  const text = readFileSync(file, 'utf8')
  const trim = (START_TRIMS as Array<{file: RegExp; from: RegExp; to: string}>).find((t) => t.file.test(file))!

  it('applies to the string-width nodedoc and oclif use', () => {
    expect(trim).toBeDefined()
    expect(trim.from.test(text)).toBe(true)
  })

  it('measures every kind of string as the original does', () => {
    const original = evaluate(file, text) as (s: string) => number
    const trimmed = evaluate(file, text.replace(trim.from, trim.to)) as (s: string) => number
    const samples = [
      '', ' ', 'core-k8s', 'kube-system/coredns-5d78c9869d-abcde', '/var/lib/kubelet/pods/uid/volumes/kubernetes.io~projected/kube-api-access-x',
      '~!@#$%^&*()_+`-={}[]|\\:";\'<>?,./ 0123456789', 'tab\there', 'line\nbreak', '\u001b[31mred\u001b[39m', '\u001b[1m\u001b[22m',
      'caf\u00e9', 'e\u0301', '\u4e2d\u6587\u540d', '\uff21\uff22', '\u{1f600} smile', '#\ufe0f\u20e3', '\u00a9 2024', '\u0007bell', 'del\u007f', '\u0085',
    ]
    for (const s of samples) expect(trimmed(s), JSON.stringify(s)).toBe(original(s))
  })
})

describe("oclif's WSL check through is-wsl alone", () => {
  it('asks the same function wsl-utils re-exports', async () => {
    const file = join(repo, 'node_modules', '@oclif', 'core', 'lib', 'util', 'os.js')
    const trim = (START_TRIMS as Array<{file: RegExp; from: RegExp; to: string}>).find((t) => t.file.test(file))!
    expect(trim.from.test(readFileSync(file, 'utf8'))).toBe(true)
    const oclifRequire = createRequire(file)
    const viaUtils = await import(oclifRequire.resolve('wsl-utils'))
    const direct = await import(createRequire(oclifRequire.resolve('wsl-utils')).resolve('is-wsl'))
    const asTrimmed = await import(oclifRequire.resolve('is-wsl'))
    expect(viaUtils.isWsl).toBe(direct.default)
    expect(asTrimmed.default).toBe(direct.default)
  })
})
