import {describe, expect, it} from 'vitest'
import {chiSquare, upperGammaQ} from '../../../src/probe/chi-square.js'

describe('chi-square p-value', () => {
  // the printed table: the statistic each degree of freedom exceeds with 5% and 0.1% chance
  it.each([
    [3.841, 1, 0.05], [5.991, 2, 0.05], [7.815, 3, 0.05], [11.070, 5, 0.05],
    [10.828, 1, 0.001], [13.816, 2, 0.001], [16.266, 3, 0.001], [20.515, 5, 0.001],
  ])('chi-square %s with %i df: p = %s', (x, df, p) => {
    expect(upperGammaQ(df / 2, x / 2)).toBeCloseTo(p, 4)
  })

  it('two degrees of freedom is an exponential: Q = exp(-x/2)', () => {
    for (const x of [0.1, 1, 4, 30]) expect(upperGammaQ(1, x / 2)).toBeCloseTo(Math.exp(-x / 2), 12)
  })

  it('scores observed counts against shares', () => {
    expect(chiSquare([50, 50, 50], [1 / 3, 1 / 3, 1 / 3])).toEqual({statistic: 0, degreesOfFreedom: 2, pValue: 1})
    const skewed = chiSquare([90, 40, 20], [1 / 3, 1 / 3, 1 / 3])!
    expect(skewed.statistic).toBeCloseTo((40 ** 2 + 10 ** 2 + 30 ** 2) / 50, 10)
    expect(skewed.pValue).toBeLessThan(0.001)
  })

  it('leaves out what is expected to get nothing, and needs two categories', () => {
    expect(chiSquare([30, 30, 0], [0.5, 0.5, 0])?.degreesOfFreedom).toBe(1)
    expect(chiSquare([30], [1])).toBeNull()
    expect(chiSquare([0, 0], [0.5, 0.5])).toBeNull()
  })
})
