// Pearson's chi-square goodness of fit, and its p-value from the regularized upper incomplete
// gamma function. Forty lines of textbook numerics (Lanczos log-gamma, series below a+1,
// continued fraction above, as in Numerical Recipes' gammp/gammq) instead of a statistics
// library for one function; tested against the printed critical values.

const LANCZOS = [76.18009172947146, -86.50532032941678, 24.01409824083091, -1.231739572450155, 0.001208650973866179, -0.000005395239384953]

function logGamma(x: number): number {
  let y = x
  const tmp = x + 5.5 - (x + 0.5) * Math.log(x + 5.5)
  let sum = 1.000000000190015
  for (const c of LANCZOS) sum += c / ++y
  return -tmp + Math.log((2.5066282746310007 * sum) / x)
}

/** Q(a, x) = Γ(a, x) / Γ(a): the chance a chi-square with 2a degrees of freedom exceeds 2x. */
export function upperGammaQ(a: number, x: number): number {
  if (x <= 0) return 1
  const lead = -x + a * Math.log(x) - logGamma(a)
  if (x < a + 1) {
    // series for P(a, x), then Q = 1 - P
    let term = 1 / a
    let sum = term
    for (let n = 1; n < 1000 && Math.abs(term) > Math.abs(sum) * 1e-15; n++) {
      term *= x / (a + n)
      sum += term
    }
    return Math.max(0, 1 - sum * Math.exp(lead))
  }
  // Lentz's continued fraction for Q(a, x)
  const tiny = 1e-300
  let b = x + 1 - a
  let c = 1 / tiny
  let d = 1 / b
  let h = d
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a)
    b += 2
    d = an * d + b
    if (Math.abs(d) < tiny) d = tiny
    c = b + an / c
    if (Math.abs(c) < tiny) c = tiny
    d = 1 / d
    const delta = d * c
    h *= delta
    if (Math.abs(delta - 1) < 1e-15) break
  }
  return Math.min(1, Math.exp(lead) * h)
}

export interface ChiSquare {
  statistic: number
  degreesOfFreedom: number
  /** chance of a statistic at least this large if the shares are what was predicted */
  pValue: number
}

/**
 * Observed counts against expected shares (which sum to 1). Categories expected to get nothing
 * are left out: a count there is a difference of its own, not a chi-square term. Null with
 * fewer than two categories (nothing to compare).
 */
export function chiSquare(observed: number[], shares: number[]): ChiSquare | null {
  const total = observed.reduce((a, b) => a + b, 0)
  let statistic = 0
  let categories = 0
  for (const [i, share] of shares.entries()) {
    if (share <= 0) continue
    const expected = total * share
    statistic += (observed[i] - expected) ** 2 / expected
    categories++
  }
  if (categories < 2 || total === 0) return null
  const degreesOfFreedom = categories - 1
  return {statistic, degreesOfFreedom, pValue: upperGammaQ(degreesOfFreedom / 2, statistic / 2)}
}
