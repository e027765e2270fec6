// Whole-process timing shared by the svc benches: wall, CPU and peak RSS from /usr/bin/time.
import {spawnSync} from 'node:child_process'

/** One process under /usr/bin/time, its stdout to `out`: wall ms, cpu ms, peak MiB. */
export function timed(argv, out = '/dev/null') {
  const t = performance.now()
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', 'sh', '-c', '"$@" > "$0"', out, ...argv], {encoding: 'utf8', maxBuffer: 1 << 28})
  const ms = performance.now() - t
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`)
  const [user, sys, rss] = r.stderr.trim().split('\n').pop().split(' ').map(Number)
  return {ms, cpuMs: (user + sys) * 1000, rssMiB: rss / 1024}
}

export function median(runs, key) {
  const v = runs.map((r) => r[key]).sort((a, b) => a - b)
  return v[Math.floor(v.length / 2)]
}
