#!/usr/bin/env node
// svc locating endpoints on a 110-pod, 3000-process node: the snapshot bench/gen-node-snapshot.mjs
// writes with --net (routes of both families, a veth per pod, hostNetwork and IPv6 pods, a
// misrouted pod and a stale endpoint), rules whose endpoints are those pods, the node itself, an
// address no pod owns and a remote one. Whole CLI runs through bin/run.js (the bundle: `npm run
// build` first), interleaved, one run of each per round:
//  - `svc web -n team-a --iptables-save F --from <snap>` and the same with -o json: the pods read
//    from the snapshot, the rules from a file;
//  - `svc web -n team-a --iptables-save F --live-routes`: this machine's routes and pods;
//  - `node -e 0` as the yardstick.
// For each: wall (median), the CPU of the run's processes (cutime + cstime, mean: 10 ms ticks) and
// nodedoc's own CPU (process.cpuUsage() at exit, through a -r preload; mean).
// In one process (dist/, this build), on the snapshot and on this machine: the pod gather svc used
// before (every pod inspected in full, gatherPods) beside the one it uses now (gatherPodAddresses),
// each on a fresh Host, the median of the rounds; on the snapshot also the process scan and pod
// index both start with.
// With --base DIR (another checkout, built; its bin/run.js), its runs go in the same rounds, and
// first its output and this build's are compared byte for byte (stdout, stderr, exit code; a live
// run's capturedAt, its time, left out): svc NAME and -A, rules from the file and from the
// snapshot (IPv4 and IPv6 saves), and NAME against this machine (--live-routes), in table, wide,
// json and yaml. The rules: bench/svc-gen.mjs's nodeOwnerRules.
//
// usage: npm run build && node bench/svc-owners.mjs [RUNS=9] [--base DIR]
import {spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {nodeOwnerRules} from './svc-gen.mjs'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const baseAt = args.indexOf('--base')
const base = baseAt >= 0 ? resolve(args.splice(baseAt, 2)[1]) : undefined
const RUNS = Number(args[0] ?? 9)
const load = () => readFileSync('/proc/loadavg', 'utf8').trim().split(' ').slice(0, 3).join(' ')

const work = mkdtempSync(join(tmpdir(), 'nodedoc-bench-'))
const snap = join(work, 'snap')
try {
  const gen = spawnSync(process.execPath, [join(repo, 'bench/gen-node-snapshot.mjs'), snap, '110', '3000', '--net'], {stdio: 'inherit'})
  if (gen.status !== 0) throw new Error('gen-node-snapshot.mjs failed')
  run()
} finally {
  rmSync(work, {recursive: true, force: true})
}

function run() {
  const {v4, v6} = nodeOwnerRules()
  const rules = join(work, 'rules.txt')
  writeFileSync(rules, v4)
  // the same rules held in the snapshot as its saves, with IPv6's
  mkdirSync(join(snap, 'cmd'), {recursive: true})
  writeFileSync(join(snap, 'cmd/iptables-nft-save.out'), v4)
  writeFileSync(join(snap, 'cmd/ip6tables-nft-save.out'), v6)

  const env = {...process.env, CONTAINER_RUNTIME_ENDPOINT: '', NO_COLOR: '1'}
  const cli = (dir) => join(dir, 'bin/run.js')
  const preload = join(work, 'cpu.cjs')
  writeFileSync(preload, `process.on('exit', () => { const u = process.cpuUsage(); require('node:fs').writeSync(3, String((u.user + u.system) / 1000)) })\n`)

  if (base) {
    // a live run's JSON and YAML carry the time they were made (capturedAt): left out
    const stable = (out) => out.toString('latin1').replace(/capturedAt"?: "?[0-9T:.Z-]+/, 'capturedAt')
    const same = (a, b) => a.status === b.status && stable(a.stdout) === stable(b.stdout) && a.stderr.equals(b.stderr)
    const checks = []
    for (const o of ['table', 'wide', 'json', 'yaml']) {
      checks.push(['svc', 'web', '-n', 'team-a', '--iptables-save', rules, '--from', snap, '-o', o])
      checks.push(['svc', 'mixed', '--iptables-save', rules, '--from', snap, '-o', o])
      checks.push(['svc', '-A', '--iptables-save', rules, '--from', snap, '-o', o])
      checks.push(['svc', 'web', '-n', 'team-a', '--from', snap, '-o', o])
      checks.push(['svc', 'mixed', '--from', snap, '-o', o])
      checks.push(['svc', '-A', '--from', snap, '-o', o])
      checks.push(['svc', 'web', '-n', 'team-a', '--iptables-save', rules, '--live-routes', '-o', o])
    }
    checks.push(['svc', 'empty', '--from', snap, '-o', 'json'], ['svc', 'nothing', '--from', snap], ['svc', '--ip', '10.96.0.11', '--from', snap, '-o', 'wide'])
    for (const argv of checks) {
      const [a, b] = [base, repo].map((dir) => spawnSync(process.execPath, [cli(dir), ...argv], {env, maxBuffer: 1 << 28}))
      console.log(`${same(a, b) ? 'same' : 'DIFFERENT'} output: ${argv.join(' ').replaceAll(snap, '<snap>').replaceAll(rules, '<rules>')} (exit ${b.status}, ${b.stdout.length}+${b.stderr.length} bytes)`)
      if (!same(a, b)) process.exitCode = 1
    }
  }

  const commands = [
    ['node -e 0', ['-e', '0']],
    ['svc web -n team-a --iptables-save F --from <110 pods>', [cli(repo), 'svc', 'web', '-n', 'team-a', '--iptables-save', rules, '--from', snap]],
    ['svc web -n team-a --iptables-save F --from <110 pods> -o json', [cli(repo), 'svc', 'web', '-n', 'team-a', '--iptables-save', rules, '--from', snap, '-o', 'json']],
    ['svc web -n team-a --iptables-save F --live-routes (this VM)', [cli(repo), 'svc', 'web', '-n', 'team-a', '--iptables-save', rules, '--live-routes']],
  ]
  if (base) for (const [what, argv] of commands.slice(1)) commands.push([`base: ${what}`, [cli(base), ...argv.slice(1)]])

  // CPU of finished children: this process's cutime + cstime (clock ticks, 10 ms) before and after
  const childTicks = () => {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')
    return Number(fields[13]) + Number(fields[14])
  }
  const wall = commands.map(() => [])
  const cpu = commands.map(() => [])
  const own = commands.map(() => [])
  const loadBefore = load()
  for (let round = 0; round < RUNS; round++) {
    commands.forEach(([what, argv], i) => {
      const ticks = childTicks()
      const start = process.hrtime.bigint()
      // fd 3: the preload's process.cpuUsage() at exit
      const r = spawnSync(process.execPath, ['-r', preload, ...argv], {stdio: ['ignore', 'ignore', 'pipe', 'pipe'], env})
      const ms = Number(process.hrtime.bigint() - start) / 1e6
      if (r.status !== 0) throw new Error(`${what} exited ${r.status}: ${r.stderr}`)
      wall[i].push(ms)
      cpu[i].push((childTicks() - ticks) * 10)
      own[i].push(Number(r.output[3].toString()))
    })
  }
  const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]
  const mean = (list) => list.reduce((a, b) => a + b, 0) / list.length
  console.log(`\nload average ${loadBefore} before, ${load()} after; ${RUNS} rounds, interleaved; Node ${process.version}`)
  console.log('| command | median ms | x node -e 0 | cpu ms (mean) | nodedoc own cpu ms (mean) |\n| --- | ---: | ---: | ---: | ---: |')
  commands.forEach(([what], i) => {
    console.log(`| ${what} | ${median(wall[i]).toFixed(0)} | ${(median(wall[i]) / median(wall[0])).toFixed(2)} | ${mean(cpu[i]).toFixed(0)} | ${mean(own[i]).toFixed(0)} |`)
  })

  // in-process: the two pod gathers, each on a fresh Host, alternating; on the snapshot, the scan
  // and the pod index alone too (what both share); on this machine (live)
  const inProcess = `
const {SnapshotHost} = await import(${JSON.stringify(join(repo, 'dist/src/host/snapshot.js'))})
const {LiveHost} = await import(${JSON.stringify(join(repo, 'dist/src/host/live.js'))})
const {gatherPods, gatherPodAddresses} = await import(${JSON.stringify(join(repo, 'dist/src/pods/pods.js'))})
const {gatherHostRoutes} = await import(${JSON.stringify(join(repo, 'dist/src/pods/routes.js'))})
const {scanProcesses} = await import(${JSON.stringify(join(repo, 'dist/src/pods/proc-scan.js'))})
const {indexPods} = await import(${JSON.stringify(join(repo, 'dist/src/pods/pod-index.js'))})
const scanAndIndex = async (host) => (await indexPods(host, await scanProcesses(host, (identity) => identity.podUid !== null))).pods.values()
const rows = {
  'snapshot: gatherPods (every pod inspected: what svc read before)': [() => SnapshotHost.open(${JSON.stringify(snap)}), gatherPods],
  'snapshot: gatherPodAddresses (what svc reads now)': [() => SnapshotHost.open(${JSON.stringify(snap)}), gatherPodAddresses],
  'snapshot: the process scan and the pod index alone (both gathers start so)': [() => SnapshotHost.open(${JSON.stringify(snap)}), scanAndIndex],
  'this machine: gatherPods': [async () => new LiveHost(), gatherPods],
  'this machine: gatherPodAddresses': [async () => new LiveHost(), gatherPodAddresses],
}
const times = Object.fromEntries(Object.keys(rows).map((k) => [k, []]))
for (let round = 0; round < ${RUNS} + 1; round++) {
  for (const [what, [open, gather]] of Object.entries(rows)) {
    const host = await open()
    await gatherHostRoutes(host)
    const t = performance.now(), c = process.cpuUsage()
    const pods = [...await gather(host)]
    const u = process.cpuUsage(c)
    // the first round warms the JIT
    if (round) times[what].push([performance.now() - t, (u.user + u.system) / 1000, pods.length])
  }
}
console.log(JSON.stringify(times))
`
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', inProcess], {encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`in-process gathers: ${r.stderr}`)
  const times = JSON.parse(r.stdout)
  console.log('\n| in one process, this build (routes read first) | median ms | median cpu ms | pods |\n| --- | ---: | ---: | ---: |')
  for (const [what, rows] of Object.entries(times)) {
    console.log(`| ${what} | ${median(rows.map((x) => x[0])).toFixed(1)} | ${median(rows.map((x) => x[1])).toFixed(1)} | ${rows[0][2]} |`)
  }
}
