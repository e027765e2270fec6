import {describe, expect, it} from 'vitest'
import {escapeControl} from '../../../src/output/escape.js'

describe('escapes for the terminal', () => {
  it('writes controls visibly and leaves plain text alone', () => {
    expect(escapeControl('plain name.txt')).toBe('plain name.txt')
    expect(escapeControl('C:\\dir')).toBe('C:\\dir')
    expect(escapeControl('\u001b[2Jx\\y')).toBe('\\x1b[2Jx\\\\y')
    expect(escapeControl('a\nb\tc\u202ed')).toBe('a\\nb\\tc\\u202ed')
    expect(escapeControl('line\n\ttabbed\n', '\n\t')).toBe('line\n\ttabbed\n')
    expect(escapeControl('line\n\u001b]0;t\u0007', '\n\t')).toBe('line\n\\x1b]0;t\\x07')
    expect(escapeControl('\u009b31m')).toBe('\\x9b31m')
  })
})
