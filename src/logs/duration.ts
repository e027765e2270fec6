// kubectl's --since takes a Go duration ("90s", "5m", "1h30m", "1.5h"). Twelve lines of Go's own
// grammar beat a dependency: `ms` and `parse-duration` accept other spellings (bare numbers as
// milliseconds, "1 hour") that kubectl would reject, and reject none of what it accepts.

import {NodedocError} from '../errors.js'

const UNIT_MS: Record<string, number> = {ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000}

/** Milliseconds in a Go duration; undefined when it is not one. */
export function parseGoDuration(text: string): number | undefined {
  const body = text.replace(/^[+]/, '')
  if (body === '0') return 0
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy
  let total = 0
  let consumed = 0
  for (let m = re.exec(body); m; m = re.exec(body)) {
    total += Number(m[1]) * UNIT_MS[m[2]]
    consumed = re.lastIndex
  }
  return consumed === body.length && consumed > 0 ? total : undefined
}

/** --since as the cut-off it means: the entries newer than `since` before `nowMs`, in ns since the epoch. */
export function sinceCutoff(since: string, nowMs = Date.now()): bigint {
  const ms = parseGoDuration(since)
  if (ms === undefined) throw new NodedocError(`--since: "${since}" is not a duration (e.g. 30s, 5m, 1h30m)`)
  return BigInt(Math.floor(nowMs - ms)) * 1_000_000n
}
