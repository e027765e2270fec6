import {afterEach, describe, expect, it, vi} from 'vitest'
import {COMMANDS} from '../../../commands/index.js'
import {checkNodeVersion, withCodePointCompare} from '../../../src/ship/launch.js'

const sign = (n: number) => Math.sign(n)

/** Strings over the alphabet command ids use, every length up to 4: 31 + 31^2 + ... ids. */
function idLike(): string[] {
  const alphabet = ['a', 'b', 'm', 'z', '-', ':']
  let level = ['']
  const all: string[] = []
  for (let length = 1; length <= 4; length++) {
    level = level.flatMap((prefix) => alphabet.map((c) => prefix + c))
    all.push(...level)
  }
  return all
}

describe('launch without ICU collation', () => {
  it('orders every id-like string exactly as localeCompare does', async () => {
    const strings = idLike()
    const collated = [...strings].sort((a, b) => a.localeCompare(b))
    const plain = await withCodePointCompare(['pod', 'sandbox:create'], async () => [...strings].sort((a, b) => a.localeCompare(b)))
    expect(plain).toEqual(collated)
  })

  it('orders the real command ids as localeCompare does, and restores localeCompare after', async () => {
    const ids = [...Object.keys(COMMANDS), 'help', 'autocomplete', 'autocomplete:create', 'autocomplete:script']
    const original = String.prototype.localeCompare
    const inside = await withCodePointCompare(ids, async () => {
      expect(String.prototype.localeCompare).not.toBe(original)
      return [...ids].reverse().sort((a, b) => a.localeCompare(b))
    })
    expect(String.prototype.localeCompare).toBe(original)
    expect(inside).toEqual([...ids].sort((a, b) => a.localeCompare(b)))
  })

  it('leaves other comparisons to the collator', async () => {
    const result = await withCodePointCompare(['pod'], async () => ({
      upper: sign('a'.localeCompare('B')), // code points would put 'B' first
      options: sign('a10'.localeCompare('a9', 'en', {numeric: true})),
    }))
    expect(result).toEqual({upper: -1, options: 1})
  })

  it('does nothing when an id is not plain', async () => {
    const original = String.prototype.localeCompare
    await withCodePointCompare(['pod', 'Pod2'], async () => expect(String.prototype.localeCompare).toBe(original))
  })
})

describe('node version check', () => {
  afterEach(() => vi.restoreAllMocks())

  it('warns below the engines major and not at or above it', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
    const pjson = {name: 'nodedoc', version: '0.1.0', engines: {node: '>=20'}} as never
    checkNodeVersion(pjson, '18.19.0')
    expect(warn).toHaveBeenCalledTimes(1)
    expect(String(warn.mock.calls[0][0])).toBe('Node version must be >=20 to use this CLI. Current node version: 18.19.0')
    checkNodeVersion(pjson, '20.0.0')
    checkNodeVersion(pjson, '22.3.1')
    checkNodeVersion({...(pjson as object), engines: {node: '^18 || ^20'}} as never, '16.0.0') // not a form it reads
    expect(warn).toHaveBeenCalledTimes(1)
  })
})
