#!/usr/bin/env node
// Whole CLI runs of `nodedoc pod` and `nodedoc ps` on a synthetic 110-pod / 3000-process node
// snapshot (bench/gen-node-snapshot.mjs), side by side with `node -e 0` and `nodedoc --version`,
// interleaved (one run of each command per round), median of RUNS rounds. Through bin/run.js
// (the bundle: `npm run build` first).
//
// Also measured in the same rounds, as yardsticks for what ps cannot avoid:
//  - `node` reading the files ps reads (cgroup, status, cmdline of every process) with plain
//    readFileSync, and with the confined reads nodedoc makes (src/host/in-root.ts, from dist/):
//    the floor a Node program pays for the reads alone, without nodedoc; with --base, the
//    confined reads of that build too; and the same reads with the type check before the open
//    left out (each file opened O_RDONLY|O_NOFOLLOW|O_NONBLOCK below its folder, then fstat):
//    what docs/security.md's rule costs (nodedoc may not read that way: a device's open would run);
//  - `ps -A` on this machine's own /proc (live);
//  - for `pod` and `ps`: a bare `node` loading the bundle files a run loads (nodedoc.cjs and pod.cjs
//    for oclif's start, direct.cjs and direct-ps.cjs for the launcher's direct paths) from their
//    code caches, and `pod` and `ps -A` through oclif's start (NODEDOC_DIRECT=0).
// With --base DIR (another checkout, built), its bin/run.js runs the same commands in the same
// rounds, and the outputs of both are compared byte for byte, with exit codes, first: ps and pod
// in table, wide and json, pod in every other -o, ps's other scopes, and both commands' errors,
// usage errors and help.
//
// usage: npm run build && node bench/pod-ps.mjs [RUNS=9] [--base DIR] [--pod-only]
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const baseAt = args.indexOf('--base')
const base = baseAt >= 0 ? resolve(args.splice(baseAt, 2)[1]) : undefined
// --pod-only: the pod rows and their yardsticks alone (no ps runs), for more rounds in the same time
const podOnlyAt = args.indexOf('--pod-only')
const podOnly = podOnlyAt >= 0 && args.splice(podOnlyAt, 1).length > 0
const RUNS = Number(args[0] ?? 9)
const load = () => readFileSync('/proc/loadavg', 'utf8').trim().split(' ').slice(0, 3).join(' ')

const snap = mkdtempSync(join(tmpdir(), 'nodedoc-bench-'))
spawnSync(process.execPath, [join(repo, 'bench/gen-node-snapshot.mjs'), snap, '110', '3000'], {stdio: 'inherit'})
const env = {...process.env, CONTAINER_RUNTIME_ENDPOINT: '', NO_COLOR: '1'}

// the files ps reads, read by a bare node: plainly, confined as nodedoc (or the --base build)
// reads them, and below a proved folder without the check before the open
const readAll = (how, dir = repo) => `
const fs = require('node:fs')
const root = ${JSON.stringify(join(snap, 'fs'))}
const pids = fs.readdirSync(root + '/proc').filter((n) => /^\\d+$/.test(n))
const names = ['cgroup', 'status', 'cmdline']
${how === 'plain'
  ? `for (const pid of pids) for (const name of names) { try { fs.readFileSync(root + '/proc/' + pid + '/' + name, 'utf8') } catch {} }`
  : how === 'unchecked'
    ? `const {O_NOFOLLOW, O_DIRECTORY, O_RDONLY, O_NONBLOCK} = fs.constants, O_PATH = 0o10000000
const proc = fs.openSync(root + '/proc', O_PATH | O_DIRECTORY)
for (const pid of pids) {
  let dir
  try { dir = fs.openSync('/proc/self/fd/' + proc + '/' + pid, O_PATH | O_NOFOLLOW | O_DIRECTORY) } catch { continue }
  for (const name of names) {
    let fd
    try { fd = fs.openSync('/proc/self/fd/' + dir + '/' + name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK) } catch { continue }
    const s = fs.fstatSync(fd)
    if (s.isFile() && s.nlink === 1) { const b = Buffer.allocUnsafe(s.size + 1); b.toString('utf8', 0, fs.readSync(fd, b, 0, s.size + 1, null)) }
    fs.closeSync(fd)
  }
  fs.closeSync(dir)
}`
    : `import(${JSON.stringify(join(dir, 'dist/src/host/in-root.js'))}).then(({readFilesInRoot}) => {
  for (let i = 0; i < pids.length; i += 128) for (const files of readFilesInRoot(root, pids.slice(i, i + 128).map((p) => '/proc/' + p), names, {refuseHardLinks: true})) for (const f of files) if (f instanceof Buffer) f.toString('utf8')
})`}
`

// the floor of a `pod` run through bin/run.js: node, plus nodedoc.cjs and pod.cjs compiled from
// their code caches and run as bin/run.js runs them (module code only: no oclif start, no work)
const loadParts = `
const fs = require('node:fs'), vm = require('node:vm'), Module = require('node:module'), {dirname, join} = require('node:path')
const dist = ${JSON.stringify(join(repo, 'dist'))}
const load = (name, require) => {
  const file = join(dist, name), source = fs.readFileSync(file, 'latin1')
  const build = /^\\/\\/nodedoc-build ([0-9a-f]{16})\\n/.exec(source)[1]
  const script = new vm.Script(Module.wrap(source), {filename: file, cachedData: fs.readFileSync(file + '.' + build + '.v8cache')})
  if (script.cachedDataRejected) throw new Error(name + ': code cache refused')
  const module = new Module(file)
  module.filename = file
  module.paths = Module._nodeModulePaths(dirname(file))
  script.runInThisContext().call(module.exports, module.exports, require, module, file, dirname(file))
  return module.exports
}
const core = load('nodedoc.cjs', Module.createRequire(join(dist, 'nodedoc.cjs')))
const own = Module.createRequire(join(dist, 'nodedoc/pod.cjs'))
load('nodedoc/pod.cjs', (id) => (id === '@oclif/core' ? core.oclif : own(id)))
`

// the floor of the launcher's direct path (src/cli/direct.ts): node, plus direct.cjs compiled
// from its code cache and its module code run, as bin/run.js runs it; nothing else
const loadDirect = (file = 'direct') => loadParts.slice(0, loadParts.indexOf('const core = ')) + `load('nodedoc/${file}.cjs', Module.createRequire(join(dist, 'nodedoc/${file}.cjs')))\n`

const cli = (dir) => join(dir, 'bin/run.js')
const commands = [
  ['node -e 0', ['-e', '0']],
  ['nodedoc --version', [cli(repo), '--version']],
  ['node: nodedoc.cjs and pod.cjs loaded from their code caches, nothing run', ['-e', loadParts]],
  ['node: direct.cjs loaded from its code cache, nothing run', ['-e', loadDirect()]],
  ['nodedoc pod core-k8s -n team-a --from <110 pods>', [cli(repo), 'pod', 'core-k8s', '-n', 'team-a', '--from', snap]],
  ['nodedoc pod core-k8s -n team-a --from <110 pods> -o json', [cli(repo), 'pod', 'core-k8s', '-n', 'team-a', '--from', snap, '-o', 'json']],
  ['nodedoc pod core-k8s -n team-a --from <110 pods>, through oclif (NODEDOC_DIRECT=0)', [cli(repo), 'pod', 'core-k8s', '-n', 'team-a', '--from', snap], {NODEDOC_DIRECT: '0'}],
  ['nodedoc ps --from <3000 procs>', [cli(repo), 'ps', '--from', snap]],
  ['nodedoc ps -A --from <3000 procs>', [cli(repo), 'ps', '-A', '--from', snap]],
  ['nodedoc ps -A --from <3000 procs> -o json', [cli(repo), 'ps', '-A', '--from', snap, '-o', 'json']],
  ['nodedoc ps -A --from <3000 procs>, through oclif (NODEDOC_DIRECT=0)', [cli(repo), 'ps', '-A', '--from', snap], {NODEDOC_DIRECT: '0'}],
  ['node: direct-ps.cjs loaded from its code cache, nothing run', ['-e', loadDirect('direct-ps')]],
  ['node: the 9000 files ps reads, readFileSync', ['-e', readAll('plain')]],
  ['node: the same 9000 files, read confined (in-root.ts)', ['-e', readAll('confined')]],
  ['node: the same files below a proved folder, no check before the open (not allowed)', ['-e', readAll('unchecked')]],
  ['nodedoc ps -A (live /proc of this machine)', [cli(repo), 'ps', '-A']],
]
if (podOnly) commands.splice(0, commands.length, ...commands.filter(([what]) => !/ ps |direct-ps|9000 files|confined reads|proved folder/.test(what)))
if (base) {
  for (const [what, argv, extra] of commands.filter(([, argv]) => argv[0] === cli(repo))) commands.push([`base: ${what}`, [cli(base), ...argv.slice(1)], extra])
  if (!podOnly) commands.push(['base: node: the same 9000 files, read confined (in-root.ts)', ['-e', readAll('confined', base)]])

  // the same answer, byte for byte (stdout, stderr, exit code), before timing anything
  const pod = ['pod', 'core-k8s', '-n', 'team-a', '--from', snap]
  const same = (a, b) => a.status === b.status && a.stdout.equals(b.stdout) && a.stderr.equals(b.stderr)
  for (const argv of [['ps', '-A', '--from', snap], ['ps', '--from', snap], pod]) {
    for (const o of ['table', 'wide', 'json']) {
      const [a, b] = [base, repo].map((dir) => spawnSync(process.execPath, [cli(dir), ...argv, '-o', o], {env, maxBuffer: 1 << 28}))
      console.log(`${same(a, b) ? 'same' : 'DIFFERENT'} output: ${argv[0]} ${argv[1] === '-A' ? '-A ' : ''}-o ${o} (${b.stdout.length} bytes)`)
      if (!same(a, b)) process.exitCode = 1
    }
  }
  const podChecks = [
    [...pod, '-o', 'yaml'], [...pod, '-o', 'name'], [...pod, '-o', 'jsonpath={.uid} {.containers[*].name}'], [...pod, '-o', 'custom-columns=NAME:.name,UID:.uid', '--no-headers'],
    [...pod, '-o', 'bogus'], [...pod, '-o', 'jsonpath={range .x}'], ['pod', 'no-such-pod', '--from', snap], ['pod', '--from', snap], ['pod', 'core-k8s', '--from', '/nonexistent'],
    [...pod, '--nope'], [...pod, 'extra'], [...pod, '-n', 'again'], ['pod', '--help'], [...pod, '-h'],
    // ps's other scopes and forms, its errors and help (ps has the launcher's direct path too)
    ['ps', '-e', '--from', snap], ['ps', '--unowned', '--from', snap, '-o', 'json'], ['ps', '--zombies', '--from', snap], ['ps', '--pod', 'core-k8s', '-n', 'team-a', '--from', snap, '-o', 'wide'],
    ['ps', '-A', '--from', snap, '-o', 'yaml'], ['ps', '-A', '--from', snap, '-o', 'bogus'], ['ps', '--from', '/nonexistent'], ['ps', '--nope', '--from', snap], ['ps', 'extra', '--from', snap], ['ps', '--help'],
  ]
  for (const argv of podChecks) {
    const [a, b] = [base, repo].map((dir) => spawnSync(process.execPath, [cli(dir), ...argv], {env, maxBuffer: 1 << 28}))
    console.log(`${same(a, b) ? 'same' : 'DIFFERENT'} output: ${argv.join(' ').replaceAll(snap, '<snap>')} (exit ${b.status}, ${b.stdout.length}+${b.stderr.length} bytes)`)
    if (!same(a, b)) process.exitCode = 1
  }
}

// CPU of a finished child: this process's cutime + cstime (clock ticks, 10 ms) before and after
const childTicks = () => {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')
  return Number(fields[13]) + Number(fields[14])
}

const wall = commands.map(() => [])
const cpu = commands.map(() => [])
const loadBefore = load()
for (let round = 0; round < RUNS; round++) {
  commands.forEach(([what, argv, extra], i) => {
    const ticks = childTicks()
    const start = process.hrtime.bigint()
    // extra: a row's own variables (NODEDOC_DIRECT=0 for oclif's start)
    const r = spawnSync(process.execPath, argv, {stdio: ['ignore', 'ignore', 'pipe'], env: extra ? {...env, ...extra} : env})
    const ms = Number(process.hrtime.bigint() - start) / 1e6
    if (r.status !== 0) throw new Error(`${what} exited ${r.status}: ${r.stderr}`)
    wall[i].push(ms)
    cpu[i].push((childTicks() - ticks) * 10)
  })
}
const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]
// CPU comes in 10 ms ticks: their mean over the rounds resolves what one run's cannot
const mean = (list) => list.reduce((a, b) => a + b, 0) / list.length
const nodeWall = median(wall[0])
const nodeCpu = mean(cpu[0])
console.log(`\nload average ${loadBefore} before, ${load()} after; ${RUNS} rounds, interleaved; Node ${process.version}`)
console.log('| command | median ms | x node -e 0 | cpu ms (mean) | cpu x |\n| --- | ---: | ---: | ---: | ---: |')
commands.forEach(([what], i) => {
  const w = median(wall[i])
  const c = mean(cpu[i])
  console.log(`| ${what} | ${w.toFixed(0)} | ${(w / nodeWall).toFixed(2)} | ${c.toFixed(0)} | ${(c / nodeCpu).toFixed(2)} |`)
})
rmSync(snap, {recursive: true, force: true})
