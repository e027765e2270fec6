#!/usr/bin/env node
// `nodedoc sandbox create` from the CLI against containerd's pod start through CRI
// (RunPodSandbox + CreateContainer + StartContainer), side by side in one run on the test node:
// the same BestEffort busybox `sleep` pod, the two taken in turn (the order flips every round),
// each removed again before the next. `nodedoc --version` is taken in the same rounds: it is the
// CLI's fixed start-up, a floor no sandbox work can go under. During the rounds one more pod of
// each kind runs (as on a node, where the image stays pulled while pods use it): containerd
// keeps its image snapshot and nodedoc its shared image layer. Three more rounds after both are
// removed time the CLI when it is the only sandbox (it builds the layer, and rm removes it).
//
//   npx tsc -p scripts/node-tsconfig.json && npm run build && node bench/sandbox-create.mjs [rounds=12] [--steps] [--base DIR]
//
// --base DIR also times the CLI of another built checkout (DIR/bin/run.js, e.g. main before a
// change) in the same rounds, right after this one's.
//
// --steps also times createSandbox() in-process: the whole create, and each step from its start
// to its end (mean ms per create, slowest first; steps in different lanes overlap).
// Needs root and no other containerd on the default socket; removes everything it made.
// Figures only; nothing here is a test.
import {spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'

const root = resolve(import.meta.dirname, '..')
const {nodeDown, nodeUp} = await import(join(root, 'dist/test/e2e/node/node.js'))
const {createPod, newPodState, podUid} = await import(join(root, 'dist/test/e2e/node/kubelet.js'))
const {saveState} = await import(join(root, 'dist/test/e2e/node/state.js'))

const args = process.argv.slice(2)
const rounds = Number(args.find((a, i) => /^\d+$/.test(a) && args[i - 1] !== '--base') ?? 12)
const withSteps = args.includes('--steps')
const baseDir = args.includes('--base') ? resolve(args[args.indexOf('--base') + 1]) : undefined
const tag = randomBytes(3).toString('hex')
const namespace = `bench-${tag}`
const cidr = '10.250.77.0/24'
const dir = mkdtempSync(join(tmpdir(), 'nd-bench-'))
const manifest = join(dir, 'pod.yaml')
writeFileSync(manifest, `apiVersion: v1\nkind: Pod\nmetadata: {name: bench, namespace: ${namespace}}\nspec:\n  containers:\n  - {name: main, image: busybox, command: [sleep, '10000']}\n`)
const cliPath = join(root, 'bin/run.js')
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')

const t = {cri: [], cli: [], version: [], program: [], RunPodSandbox: [], CreateContainer: [], StartContainer: [], criRemove: [], cliRemove: [], criAlone: [], cliAlone: [], inProcess: [], cliBase: []}
const stepTotals = new Map()
let stepRuns = 0

function summary(values) {
  const s = [...values].sort((a, b) => a - b)
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))]
  const median = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
  return {n: s.length, min: s[0], median, p90: at(0.9), max: s.at(-1)}
}
const ms = (v) => `${v.toFixed(1)} ms`

function timed(name, fn, keep) {
  return async (...a) => {
    const t0 = performance.now()
    try {
      return await fn(...a)
    } finally {
      if (keep()) t[name].push(performance.now() - t0)
    }
  }
}

const startLoad = loadavg()
const node = await nodeUp({apps: namespace, system: namespace}, [])
let measuring = false
const cri = {
  ...node.cri,
  runPodSandbox: timed('RunPodSandbox', node.cri.runPodSandbox, () => measuring),
  createContainer: timed('CreateContainer', node.cri.createContainer, () => measuring),
  startContainer: timed('StartContainer', node.cri.startContainer, () => measuring),
}

async function removePod(pod) {
  for (const c of pod.containers) {
    await node.cri.stopContainer(c.id, 0)
    await node.cri.removeContainer(c.id)
  }
  await node.cri.stopPodSandbox(pod.sandboxId)
  await node.cri.removePodSandbox(pod.sandboxId)
}

async function startPod(name) {
  const spec = {name, namespace, containers: [{name: 'main', command: ['sleep', '10000']}]}
  const pod = newPodState(spec, podUid())
  node.state.pods.push(pod)
  await createPod(cri, spec, pod, () => saveState(node.state))
  return pod
}

/** keep: the series the pod start goes into (undefined: a warm-up, not kept) */
async function criRound(i, keep) {
  const n = t.StartContainer.length
  measuring = Boolean(keep)
  const pod = await startPod(`bench-${i}`)
  measuring = false
  if (keep) t[keep].push(t.RunPodSandbox[n] + t.CreateContainer[n] + t.StartContainer[n])
  const t0 = performance.now()
  await removePod(pod)
  if (keep === 'cri') t.criRemove.push(performance.now() - t0)
}

function cliCreate(name, cli = cliPath) {
  const r = spawnSync(process.execPath, [cli, 'sandbox', 'create', '-f', manifest, '--name', name, '--pod-cidr', cidr, '-o', 'json'])
  if (r.status !== 0) throw new Error(`sandbox create: ${String(r.stderr).trim()}`)
}

function cliRemove(name, cli = cliPath) {
  const rm = spawnSync(process.execPath, [cli, 'sandbox', 'rm', name])
  if (rm.status !== 0) throw new Error(`sandbox rm: ${String(rm.stderr).trim()}`)
}

function cliRound(i, keep, cli = cliPath) {
  const name = `bench-${tag}-${i}`
  const t0 = performance.now()
  cliCreate(name, cli)
  const took = performance.now() - t0
  const t1 = performance.now()
  cliRemove(name, cli)
  if (keep) t[keep].push(took)
  if (keep === 'cli') t.cliRemove.push(performance.now() - t1)
}

function versionRound(keep) {
  const t0 = performance.now()
  spawnSync(process.execPath, [cliPath, '--version'])
  if (keep) t.version.push(performance.now() - t0)
  // one program run from node, as each step's program is: the unit the primitives pay per step
  for (let k = 0; k < 5; k++) {
    const t1 = performance.now()
    spawnSync('/bin/true')
    if (keep) t.program.push(performance.now() - t1)
  }
}

/**
 * The programs one create runs (execve calls), from its plan: each step's program, nsenter and
 * unshare where they wrap one, the shells and what their scripts run (a builtin such as `echo`
 * runs none; an `nsenter` in a script runs its program too), the pause, the container chain
 * (nsenter, unshare, setpriv, the gate's sh) and the command it execs, and the container's shim
 * (a sh). The log writer (a node process) is left out: it starts as the gate opens, and nothing
 * waits for it.
 */
async function programsPerCreate() {
  const {createSandbox} = await import(join(root, 'dist/src/sandbox/service.js'))
  const {plan} = await createSandbox({manifestPath: manifest, name: `bench-${tag}-dry`, isolation: 'full', podCidr: cidr, cgroupDriver: 'cgroupfs', podPidsLimit: null, dryRun: true})
  const script = (text) => text.split(' && ').reduce((n, part) => n + (/^echo /.test(part) ? 0 : /\bnsenter\b/.test(part) ? 2 : 1), 0)
  // argv: the wrappers (nsenter, unshare) and what they run, a `sh -c` and its script
  const programs = (argv) => {
    const c = argv.indexOf('-c')
    if (argv.includes('sh') && c > 0) return argv.slice(0, c).filter((a) => ['nsenter', 'unshare', 'sh'].includes(a)).length + script(argv[c + 1])
    return argv.filter((a) => ['nsenter', 'unshare'].includes(a)).length + 1
  }
  let n = 0
  for (const {op} of plan.steps) {
    if (op.kind === 'run' || op.kind === 'spawnPause') n += programs(op.argv)
    // the shim's sh, the chain's programs and the gate's sh
    if (op.kind === 'startContainer') n += op.chain.filter((a) => ['nsenter', 'unshare', 'setpriv'].includes(a)).length + 2
    if (op.kind === 'release') n += 1
  }
  return n
}

/**
 * One create in-process: each step from its start to its end (steps overlap: the pod's network
 * runs beside the container's root), the time before the first step (preflight), and the whole.
 */
async function stepsRound(i) {
  const {createSandbox, removeSandbox} = await import(join(root, 'dist/src/sandbox/service.js'))
  const name = `bench-${tag}-s${i}`
  const t0 = performance.now()
  const started = new Map()
  let first
  const add = (id, ms) => stepTotals.set(id, (stepTotals.get(id) ?? 0) + ms)
  await createSandbox({manifestPath: manifest, name, isolation: 'full', podCidr: cidr, cgroupDriver: 'cgroupfs', podPidsLimit: null,
    onStep: (step) => {
      first ??= performance.now()
      started.set(step.id, performance.now())
    },
    onStepDone: (step) => add(step.id.replace(/^ctr\.main\./, 'ctr.'), performance.now() - started.get(step.id)),
  })
  const end = performance.now()
  add('preflight (before the first step)', first - t0)
  t.inProcess.push(end - t0)
  stepRuns++
  await removeSandbox(name)
}

try {
  // round 0 warms both (image snapshot, page cache) and is left out
  cliRound(0)
  await criRound(0)
  const anchorPod = await startPod('bench-anchor')
  const anchor = `bench-${tag}-anchor`
  cliCreate(anchor)
  for (let i = 1; i <= rounds; i++) {
    if (i % 2) {
      await criRound(i, 'cri')
      cliRound(i, 'cli')
    } else {
      cliRound(i, 'cli')
      await criRound(i, 'cri')
    }
    if (baseDir) cliRound(`base-${i}`, 'cliBase', join(baseDir, 'bin/run.js'))
    versionRound(true)
    if (withSteps) await stepsRound(i)
  }
  cliRemove(anchor)
  await removePod(anchorPod)
  for (let i = 1; i <= 3; i++) {
    await criRound(`alone-${i}`, 'criAlone')
    cliRound(`alone-${i}`, 'cliAlone')
  }
  const version = await node.cri.version()
  const rows = [
    ['containerd pod start (the three calls)', t.cri],
    ['  RunPodSandbox', t.RunPodSandbox.slice(0, rounds)],
    ['  CreateContainer', t.CreateContainer.slice(0, rounds)],
    ['  StartContainer', t.StartContainer.slice(0, rounds)],
    ['nodedoc sandbox create (CLI)', t.cli],
    ...(baseDir ? [[`  the same, ${baseDir}`, t.cliBase]] : []),
    ['containerd pod start, the only pod', t.criAlone],
    ['nodedoc sandbox create, the only one', t.cliAlone],
    ['nodedoc --version (CLI start-up)', t.version],
    ['one program (/bin/true) run from node', t.program],
    ['containerd stop + remove', t.criRemove],
    ['nodedoc sandbox rm (CLI)', t.cliRemove],
  ]
  process.stdout.write(`${version.runtimeName} ${version.runtimeVersion}; ${rounds} rounds (after one warm-up), order flipped every round, one more pod of each kind running\n`)
  process.stdout.write(`load average: ${startLoad} at start, ${loadavg()} at end\n`)
  process.stdout.write(`${'what'.padEnd(40)} n   min        median     p90        max\n`)
  for (const [name, values] of rows) {
    const s = summary(values)
    process.stdout.write(`${name.padEnd(40)} ${String(s.n).padEnd(3)} ${ms(s.min).padEnd(10)} ${ms(s.median).padEnd(10)} ${ms(s.p90).padEnd(10)} ${ms(s.max)}\n`)
  }
  const ratio = summary(t.cli).median / summary(t.cri).median
  process.stdout.write(`ratio of medians, CLI sandbox create / containerd pod start: ${ratio.toFixed(2)}\n`)
  process.stdout.write(`CLI sandbox create less CLI start-up (median): ${ms(summary(t.cli).median - summary(t.version).median)}\n`)
  const programs = await programsPerCreate()
  const floor = summary(t.version).median + programs * summary(t.program).median
  process.stdout.write(`programs one create runs: ${programs}; floor = CLI start-up + ${programs} x one program = ${ms(floor)} (${(floor / summary(t.cri).median).toFixed(2)} x containerd)\n`)
  if (withSteps) {
    const s = summary(t.inProcess)
    process.stdout.write(`createSandbox() in-process, the whole create: median ${ms(s.median)} (min ${ms(s.min)}, max ${ms(s.max)})\n`)
    process.stdout.write('slowest steps of createSandbox() in-process, mean ms from start to end (they overlap):\n')
    for (const [id, total] of [...stepTotals].sort((a, b) => b[1] - a[1]).slice(0, 12)) process.stdout.write(`  ${id.padEnd(28)} ${(total / stepRuns).toFixed(1)}\n`)
  }
} finally {
  node.cri.close()
  rmSync(dir, {recursive: true, force: true})
  const left = await nodeDown()
  if (left.length) {
    process.stderr.write(`left behind:\n  ${left.join('\n  ')}\n`)
    process.exitCode = 1
  }
}
