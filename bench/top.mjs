#!/usr/bin/env node
// `nodedoc top` on the synthetic 110-pod node (bench/gen-node-snapshot.mjs: 110 pods, each a
// sandbox and two containers, cgroup v1 with cpu,cpuacct co-mounted): the CPU time of one
// sample, and the memory of a `top -w` process over 1000 intervals.
//
//   npm run build && node --expose-gc bench/top.mjs [SAMPLES=50]
//
// 1. In this process, through the node folder as --host-root reads it: the first sample (which
//    also reads each sandbox's runtime config once) and then SAMPLES more, each timed in CPU
//    (user + system, process.cpuUsage) and wall time, with the report and its table.
// 2. The CLI: `top --from SNAP -o json` start to end (one sample: no pair recorded), CPU of the
//    whole process from /proc/self/stat's children times.
// 3. `top -w --interval 1ms --host-root SNAP/fs -o json` as a process: its RSS (VmRSS) after
//    100, 250, 500, 750 and 1000 samples; and in this process the same loop (watchUsage) with
//    the heap measured after a full GC at the same points.
import {spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const SAMPLES = Number(process.argv[2] ?? 50)
const POINTS = [100, 250, 500, 750, 1000]
if (!globalThis.gc) {
  console.error('run with node --expose-gc bench/top.mjs')
  process.exit(2)
}

const {LiveHost} = await import(join(repo, 'dist/src/host/live.js'))
const {UsageSampler} = await import(join(repo, 'dist/src/usage/sample.js'))
const {usageReport} = await import(join(repo, 'dist/src/usage/rates.js'))
const {usageTable} = await import(join(repo, 'dist/src/usage/render.js'))
const {watchUsage} = await import(join(repo, 'dist/src/usage/watch.js'))

const snap = mkdtempSync(join(tmpdir(), 'nodedoc-top-bench-'))
spawnSync('node', [join(repo, 'bench/gen-node-snapshot.mjs'), snap, '110', '3000'], {stdio: 'inherit'})
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const p90 = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)]

// 1. one sample, in process
const host = new LiveHost(join(snap, 'fs'))
const sampler = new UsageSampler(host)
const timed = async (previous) => {
  const cpu = process.cpuUsage()
  const start = performance.now()
  const sample = await sampler.sample()
  const text = usageTable(usageReport(previous, sample), false, 'pods')
  const used = process.cpuUsage(cpu)
  return {sample, text, cpuMs: (used.user + used.system) / 1000, wallMs: performance.now() - start}
}
let last = await timed(undefined)
const first = last
const cpu = []
const wall = []
for (let i = 0; i < SAMPLES; i++) {
  last = await timed(last.sample)
  cpu.push(last.cpuMs)
  wall.push(last.wallMs)
}
const pods = last.sample.pods.length
const cgroups = pods + last.sample.pods.reduce((n, p) => n + p.containers.length, 0)

// 2. the CLI, one sample from the snapshot
const TICK_MS = 10
const childrenCpuMs = () => {
  const fields = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /s, '').split(' ')
  return (Number(fields[13]) + Number(fields[14])) * TICK_MS
}
const cliRuns = 10
const cliWall = []
const cpuBefore = childrenCpuMs()
for (let i = 0; i < cliRuns; i++) {
  const start = performance.now()
  const r = spawnSync('node', [join(repo, 'bin/run.js'), 'top', '--from', snap, '-o', 'json'], {stdio: ['ignore', 'ignore', 'pipe'], env: {...process.env, NO_COLOR: '1'}})
  if (r.status !== 0) throw new Error(`top --from exited ${r.status}: ${r.stderr}`)
  cliWall.push(performance.now() - start)
}
const cliCpu = (childrenCpuMs() - cpuBefore) / cliRuns

// 3a. a `top -w` process, 1000 samples
const vmRssKiB = (pid) => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1])
const cliRss = await new Promise((done, fail) => {
  const child = spawn('node', [join(repo, 'bin/run.js'), 'top', '-w', '--interval', '1ms', '--host-root', join(snap, 'fs'), '-o', 'json'], {stdio: ['ignore', 'pipe', 'inherit'], env: {...process.env, NO_COLOR: '1'}})
  const rss = []
  let lines = 0
  let started = 0
  child.stdout.on('data', (chunk) => {
    for (const byte of chunk) if (byte === 10) {
      lines++
      if (lines === 1) started = performance.now()
      if (POINTS.includes(lines)) rss.push(vmRssKiB(child.pid))
      if (lines === POINTS.at(-1)) {
        child.kill('SIGINT')
        done({rss, seconds: (performance.now() - started) / 1000})
      }
    }
  })
  child.on('exit', (code) => lines < POINTS.at(-1) && fail(new Error(`top -w exited ${code} after ${lines} samples`)))
})

// 3b. the same loop in this process, heap after a full GC
const heap = []
const stop = new AbortController()
let reports = 0
globalThis.gc()
const heapStart = process.memoryUsage().heapUsed
await watchUsage(host, new UsageSampler(host), {intervalMs: 1, watch: true, signal: stop.signal, maxReports: POINTS.at(-1)}, (report) => {
  JSON.stringify(report)
  reports++
  if (POINTS.includes(reports)) {
    globalThis.gc()
    heap.push(process.memoryUsage().heapUsed)
  }
})

const mib = (bytes) => (bytes / 2 ** 20).toFixed(1)
console.log(`\n110-pod synthetic node: ${pods} pod cgroups, ${cgroups} cgroups in all (11 files each), Node ${process.version}\n`)
console.log('| what | figure |\n|---|---|')
console.log(`| first sample, in process (also reads ${pods} sandbox runtime configs) | ${first.cpuMs.toFixed(1)} ms CPU, ${first.wallMs.toFixed(1)} ms wall |`)
console.log(`| one sample + report + table, in process (median / p90 of ${SAMPLES}) | ${median(cpu).toFixed(1)} / ${p90(cpu).toFixed(1)} ms CPU, ${median(wall).toFixed(1)} ms wall |`)
console.log(`| \`top --from SNAP -o json\`, whole process (mean CPU, median wall of ${cliRuns}) | ${cliCpu.toFixed(0)} ms CPU, ${median(cliWall).toFixed(0)} ms wall |`)
console.log(`| \`top -w --interval 1ms\` process, VmRSS after ${POINTS.join(' / ')} samples | ${cliRss.rss.map((k) => (k / 1024).toFixed(1)).join(' / ')} MiB (${(POINTS.at(-1) / cliRss.seconds).toFixed(0)} samples/s) |`)
console.log(`| same loop in process, heap after GC at ${POINTS.join(' / ')} (start ${mib(heapStart)}) | ${heap.map(mib).join(' / ')} MiB |`)
rmSync(snap, {recursive: true, force: true})
