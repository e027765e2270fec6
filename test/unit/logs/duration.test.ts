import {describe, expect, it} from 'vitest'
import {parseGoDuration} from '../../../src/logs/duration.js'

describe('parseGoDuration', () => {
  it('reads what Go time.ParseDuration reads', () => {
    expect(parseGoDuration('90s')).toBe(90_000)
    expect(parseGoDuration('1h30m')).toBe(5_400_000)
    expect(parseGoDuration('1.5h')).toBe(5_400_000)
    expect(parseGoDuration('250ms')).toBe(250)
    expect(parseGoDuration('0')).toBe(0)
  })
  it('refuses bare numbers and words', () => {
    for (const bad of ['10', '5 minutes', '1d', '', 'h', '1h30']) expect(parseGoDuration(bad), bad).toBeUndefined()
  })
})
