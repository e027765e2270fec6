#!/usr/bin/env node
// Start-up time of nodedoc against bare `node -e 0`: the bundle through bin/run.js, the tsc
// output through plain oclif (NODEDOC_BUNDLE=0), and the single executable.
//
//   npm run build && node scripts/build-bin.mjs && node bench/startup.mjs [--runs 25]
//
// Each command runs a few times to warm the page cache and the bundle's V8 code cache, then
// --runs rounds of one run of each, interleaved; the table shows the median and p90 wall time of
// the whole process and the median's ratio to `node -e 0`, and the mean CPU time (user +
// system) per run, which other load on the machine disturbs far less than wall time.
// `pod`/`ps` read a snapshot: the first one under examples/ if there is one, else a small
// snapshot of this machine taken here first.

import {execFileSync, spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const {values} = parseArgs({options: {runs: {type: 'string', default: '25'}, warmup: {type: 'string', default: '3'}}})
const RUNS = Number(values.runs)
const WARMUP = Number(values.warmup)
const run = join(repo, 'bin', 'run.js')
const sea = join(repo, 'dist', 'bin', `nodedoc-${process.platform}-${process.arch}`)
const env = {...process.env, NO_COLOR: '1'}

const TICK_MS = 10 // USER_HZ is 100 on Linux

/** CPU time (user + system) of this process's waited-for children so far, from /proc/self/stat. */
function childrenCpuMs() {
  const fields = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /s, '').split(' ')
  // after "pid (comm) ": state is field 3, cutime 16, cstime 17 (1-based)
  return (Number(fields[13]) + Number(fields[14])) * TICK_MS
}

/** One run of argv: wall ms and CPU ms (user + system, in 10 ms ticks); throws when it fails. */
function once(argv, extraEnv = {}) {
  const cpuBefore = childrenCpuMs()
  const started = process.hrtime.bigint()
  const result = spawnSync(argv[0], argv.slice(1), {env: {...env, ...extraEnv}, stdio: ['ignore', 'ignore', 'pipe']})
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  if (result.status !== 0) throw new Error(`${argv.join(' ')} exited ${result.status}: ${String(result.stderr).trim().split('\n')[0]}`)
  return {ms, cpu: childrenCpuMs() - cpuBefore}
}

/**
 * Every case WARMUP times, then RUNS rounds of one run of each, interleaved: other load on the
 * machine then falls on every case alike instead of on whichever ran during it. A failing case
 * is reported in its row; the others are still measured.
 */
function measure(cases) {
  const results = cases.map(() => ({samples: [], cpu: 0}))
  const step = (i) => {
    const r = results[i]
    if (r.error) return undefined
    try {
      return once(cases[i].argv, cases[i].env)
    } catch (error) {
      r.error = error.message
      return undefined
    }
  }
  for (let w = 0; w < WARMUP; w++) cases.forEach((_, i) => step(i))
  for (let round = 0; round < RUNS; round++) {
    cases.forEach((_, i) => {
      const run = step(i)
      if (run) {
        results[i].samples.push(run.ms)
        results[i].cpu += run.cpu
      }
    })
  }
  return results.map((r) => {
    if (r.error) return {error: r.error}
    const samples = [...r.samples].sort((a, b) => a - b)
    return {median: samples[Math.floor(samples.length / 2)], p90: samples[Math.floor(samples.length * 0.9)], cpu: r.cpu / samples.length}
  })
}

function exampleSnapshot() {
  const dir = join(repo, 'examples')
  if (!existsSync(dir)) return undefined
  for (const entry of readdirSync(dir, {withFileTypes: true}).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name)
    if ((entry.isDirectory() && existsSync(join(path, 'meta.json'))) || /\.(tar\.gz|tgz)$/.test(entry.name)) return path
  }
  return undefined
}

if (!existsSync(join(repo, 'dist', 'nodedoc.cjs'))) throw new Error('no bundle: run npm run build first')
let scratch
let snapshot = exampleSnapshot()
if (!snapshot) {
  scratch = mkdtempSync(join(tmpdir(), 'nodedoc-bench-'))
  snapshot = join(scratch, 'snap')
  execFileSync(process.execPath, [run, 'snapshot', '-o', snapshot], {env, stdio: 'ignore'})
}
// the pod to ask for: the first one ps ties a process to
const ps = JSON.parse(execFileSync(process.execPath, [run, 'ps', '--from', snapshot, '-o', 'json'], {env, encoding: 'utf8'}))
// a list comes as a document (apiVersion, kind, items)
const pod = ps.items.find((p) => p.pod?.name && p.pod.namespace)?.pod

const cases = [{label: 'node -e 0', argv: [process.execPath, '-e', '0']}]
const commands = [
  ['--version', ['--version']],
  ['--help', ['--help']],
  ['ps --from SNAP', ['ps', '--from', snapshot]],
  ...(pod ? [[`pod ${pod.name} -n ${pod.namespace} --from SNAP`, ['pod', pod.name, '-n', pod.namespace, '--from', snapshot]]] : []),
]
for (const [label, args] of commands) {
  cases.push({label: `nodedoc ${label} (bundle)`, argv: [process.execPath, run, ...args], env: {NODEDOC_BUNDLE: '1'}})
  cases.push({label: `nodedoc ${label} (tsc output, no bundle)`, argv: [process.execPath, run, ...args], env: {NODEDOC_BUNDLE: '0'}})
  if (existsSync(sea)) cases.push({label: `nodedoc ${label} (single executable)`, argv: [sea, ...args]})
}
if (pod) {
  // the same pod through oclif's start instead of the launcher's direct path (src/cli/direct.ts)
  const args = ['pod', pod.name, '-n', pod.namespace, '--from', snapshot]
  cases.push({label: `nodedoc ${commands.at(-1)[0]} (bundle, through oclif: NODEDOC_DIRECT=0)`, argv: [process.execPath, run, ...args], env: {NODEDOC_BUNDLE: '1', NODEDOC_DIRECT: '0'}})
  if (existsSync(sea)) cases.push({label: `nodedoc ${commands.at(-1)[0]} (single executable, through oclif: NODEDOC_DIRECT=0)`, argv: [sea, ...args], env: {NODEDOC_DIRECT: '0'}})
}
const measured = measure(cases)
const baseline = measured[0]
const rows = cases.map((c, i) => [c.label, measured[i]])
if (scratch) rmSync(scratch, {recursive: true, force: true})

const f = (ms) => ms.toFixed(1)
process.stdout.write(`snapshot: ${snapshot.startsWith(repo) ? snapshot.slice(repo.length + 1) : 'a fresh snapshot of this machine'}; ${RUNS} runs after ${WARMUP} warm-up; node ${process.version}\n\n`)
process.stdout.write('| command | median ms | p90 ms | x node -e 0 | CPU ms (mean) | CPU x node -e 0 |\n| --- | ---: | ---: | ---: | ---: | ---: |\n')
for (const [label, t] of rows) {
  if (t.error) process.stdout.write(`| ${label} | failed: ${t.error.slice(0, 120)} | | | | |\n`)
  else process.stdout.write(`| ${label} | ${f(t.median)} | ${f(t.p90)} | ${(t.median / baseline.median).toFixed(2)} | ${f(t.cpu)} | ${(t.cpu / baseline.cpu).toFixed(2)} |\n`)
}
