import {describe, expect, it} from 'vitest'
import {parseGoDuration, sinceCutoff} from '../../../src/logs/duration.js'

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

describe('sinceCutoff', () => {
  it('is the moment the duration before now, in nanoseconds', () => {
    expect(sinceCutoff('90s', 1_714_557_690_000)).toBe(1_714_557_600_000_000_000n)
    expect(sinceCutoff('1.5ms', 10)).toBe(8_000_000n)
  })
  it('refuses what is not a Go duration with one line naming the flag', () => {
    expect(() => sinceCutoff('10', 0)).toThrow('--since: "10" is not a duration (e.g. 30s, 5m, 1h30m)')
  })
})
