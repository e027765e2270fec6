#!/usr/bin/env node
// Wall time of `nodedoc pod` and `nodedoc ps` on a synthetic 110-pod / 3000-process node
// snapshot, beside `node -e 0` and `nodedoc --version` on the same machine. Median of RUNS.
// usage: npm run build && node bench/pod-ps.mjs [RUNS=15]
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

const RUNS = Number(process.argv[2] ?? 15)
const snap = mkdtempSync(join(tmpdir(), 'nodedoc-bench-'))
spawnSync('node', ['bench/gen-node-snapshot.mjs', snap, '110', '3000'], {stdio: 'inherit'})

function median(argv) {
  const times = []
  for (let i = 0; i < RUNS; i++) {
    const start = process.hrtime.bigint()
    const r = spawnSync(argv[0], argv.slice(1), {stdio: ['ignore', 'ignore', 'pipe'], env: {...process.env, CONTAINER_RUNTIME_ENDPOINT: ''}})
    const ms = Number(process.hrtime.bigint() - start) / 1e6
    if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`)
    times.push(ms)
  }
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)]
}

const base = median(['node', '-e', '0'])
const rows = [
  ['node -e 0', base],
  ['nodedoc --version', median(['node', 'bin/run.js', '--version'])],
  ['nodedoc pod core-k8s -n team-a --from <110 pods>', median(['node', 'bin/run.js', 'pod', 'core-k8s', '-n', 'team-a', '--from', snap, '-o', 'json'])],
  ['nodedoc ps --from <3000 procs>', median(['node', 'bin/run.js', 'ps', '--from', snap, '-o', 'json'])],
  ['nodedoc ps -A --from <3000 procs>', median(['node', 'bin/run.js', 'ps', '-A', '--from', snap, '-o', 'json'])],
]
console.log(`| command | median ms (${RUNS} runs) | x node -e 0 |\n|---|---|---|`)
for (const [what, ms] of rows) console.log(`| ${what} | ${ms.toFixed(0)} | ${(ms / base).toFixed(2)} |`)
rmSync(snap, {recursive: true, force: true})
