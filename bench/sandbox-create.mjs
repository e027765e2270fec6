#!/usr/bin/env node
// Sandbox create-to-running wall time beside a bare `unshare ... chroot` baseline.
// Run as root after a build:  npx tsc -p . && node bench/sandbox-create.mjs [runs]
// Figures only; nothing here is a test. Everything it creates it removes.
import {execFileSync, spawnSync} from 'node:child_process'
import {copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'

const root = resolve(import.meta.dirname, '..')
const {createSandbox, removeSandbox} = await import(join(root, 'dist/src/sandbox/service.js'))
const runs = Number(process.argv[2] ?? 10)
const tag = Math.random().toString(16).slice(2, 8)
const dir = mkdtempSync(join(tmpdir(), 'nd-bench-'))
const manifest = join(dir, 'pod.yaml')
writeFileSync(manifest, `apiVersion: v1\nkind: Pod\nmetadata: {name: bench, namespace: nd-bench-${tag}}\nspec:\n  containers:\n  - {name: app, image: busybox, command: [sleep, '10000']}\n`)

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))]
  return {min: s[0].toFixed(0), median: at(0.5).toFixed(0), p90: at(0.9).toFixed(0), max: s.at(-1).toFixed(0)}
}

// 1. nodedoc sandbox, in-process: from the call to the container released from its gate
const sandbox = []
const stepTotals = new Map()
for (let i = 0; i < runs; i++) {
  const name = `bench-${tag}-${i}`
  let last = performance.now()
  let lastId = 'preflight'
  const t0 = performance.now()
  await createSandbox({manifestPath: manifest, name, isolation: 'full', podCidr: '10.250.77.0/24', cgroupDriver: 'cgroupfs', podPidsLimit: null,
    onStep: (step) => {
      const now = performance.now()
      stepTotals.set(lastId, (stepTotals.get(lastId) ?? 0) + now - last)
      last = now
      lastId = step.id.replace(/^ctr\.app\./, 'ctr.').replace(/^(cgroup\.[a-z]+|ctr\.dev|ctr\.mkdir|ctr\.touch|logs|state)\..*/, '$1.*')
    }})
  stepTotals.set(lastId, (stepTotals.get(lastId) ?? 0) + performance.now() - last)
  sandbox.push(performance.now() - t0)
  await removeSandbox(name)
}

// 2. the CLI, as a user runs it (process start, oclif, the same work): from the tsc output, and
//    from the esbuild bundle when one is built (npm run build)
const cliRuns = (bundle) => {
  const out = []
  for (let i = 0; i < Math.min(runs, 5); i++) {
    const name = `bench-cli-${tag}-${bundle}-${i}`
    const t0 = performance.now()
    const r = spawnSync(process.execPath, [join(root, 'bin/run.js'), 'sandbox', 'create', '-f', manifest, '--name', name, '--pod-cidr', '10.250.77.0/24', '-o', 'json'], {env: {...process.env, NODEDOC_BUNDLE: bundle}})
    out.push(performance.now() - t0)
    if (r.status !== 0) console.error(String(r.stderr))
    spawnSync(process.execPath, [join(root, 'bin/run.js'), 'sandbox', 'rm', name], {env: {...process.env, NODEDOC_BUNDLE: '0'}})
  }
  return out
}
const cli = cliRuns('0')
const cliBundle = existsSync(join(root, 'dist/nodedoc.cjs')) ? cliRuns('1') : null

// 3. baseline: the seed's bare way, `unshare` new namespaces + chroot into a busybox dir, to exec
const rootfs = join(dir, 'rootfs')
mkdirSync(join(rootfs, 'bin'), {recursive: true})
try {linkSync('/bin/busybox', join(rootfs, 'bin/busybox'))} catch {copyFileSync('/bin/busybox', join(rootfs, 'bin/busybox'))}
symlinkSync('busybox', join(rootfs, 'bin/true'))
const bare = []
for (let i = 0; i < runs; i++) {
  const t0 = performance.now()
  execFileSync('unshare', ['--pid', '--mount', '--net', '--ipc', '--uts', '--fork', '--', 'chroot', rootfs, '/bin/true'])
  bare.push(performance.now() - t0)
}
rmSync(dir, {recursive: true, force: true})

console.log(`runs: ${runs} (CLI: ${cli.length})`)
console.log('create-to-running, ms:')
console.log('  nodedoc sandbox (in-process) ', stats(sandbox))
console.log('  nodedoc sandbox create (CLI, tsc output)', stats(cli))
if (cliBundle) console.log('  nodedoc sandbox create (CLI, bundle)    ', stats(cliBundle))
console.log('  unshare ... chroot (bare)    ', stats(bare))
console.log('slowest steps, mean ms per create:')
for (const [id, total] of [...stepTotals].sort((a, b) => b[1] - a[1]).slice(0, 10)) console.log(`  ${id.padEnd(28)} ${(total / runs).toFixed(1)}`)
