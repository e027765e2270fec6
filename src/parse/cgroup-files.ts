// Values read from cgroupfs control files, v1 and v2.

/** A number file; "max" and v1's "unlimited" sentinels read as null. */
export function parseCgroupNumber(text: string | undefined): number | null {
  if (text === undefined) return null
  const value = text.trim()
  if (value === '' || value === 'max') return null
  const n = Number(value)
  if (!Number.isFinite(n)) return null
  // cgroup v1 writes "no limit" as PAGE_COUNTER_MAX pages, 9223372036854771712 on 4k pages
  if (n >= 2 ** 62) return null
  return n
}

/** "key value" lines: memory.stat, cpu.stat, memory.events, memory.oom_control. */
export function parseFlatKeyed(text: string | undefined): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of (text ?? '').split('\n')) {
    const [key, value] = line.trim().split(/\s+/)
    if (key && value !== undefined && /^-?\d+$/.test(value)) out.set(key, Number(value))
  }
  return out
}

/**
 * Chosen keys of a "key value" file, without splitting the rest: v1's memory.stat has some 45
 * lines, read for every container on every `top -w` sample, of which two are wanted.
 */
export function pickFlatKeyed<K extends string>(text: string | undefined, keys: readonly K[]): Record<K, number | null> {
  const out = {} as Record<K, number | null>
  const body = text === undefined ? '' : '\n' + text
  for (const key of keys) {
    const at = body.indexOf(`\n${key} `)
    const match = at < 0 ? null : /^-?\d+/.exec(body.slice(at + key.length + 2, body.indexOf('\n', at + 1) >>> 0))
    out[key] = match ? Number(match[0]) : null
  }
  return out
}

/** cgroup v2 cpu.max: "quota period" or "max period". */
export function parseCpuMax(text: string | undefined): {quotaUs: number | null; periodUs: number | null} {
  const [quota, period] = (text ?? '').trim().split(/\s+/)
  return {quotaUs: quota && quota !== 'max' ? Number(quota) : null, periodUs: period ? Number(period) : null}
}

/** v1 cpu.cfs_quota_us: -1 means no quota. */
export function parseCfsQuota(text: string | undefined): number | null {
  const n = parseCgroupNumber(text)
  return n === null || n < 0 ? null : n
}
