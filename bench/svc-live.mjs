// nodedoc svc on a node holding 10k kube-proxy services, beside the kernel's own iptables-save of
// the same rules, in one run: `svc NAME` live (iptables-nft backend: only the chains on the path),
// and `svc -A` from the saved rules as a table and as JSON. Each figure is a whole CLI process
// (bin/run.js), median of RUNS, wall and CPU (user+sys of the process tree), and peak RSS.
//   npm run build && node bench/svc-live.mjs [services=10000] [runs=5]
// Needs root (ip netns, iptables-nft-restore); the netns is removed at the end.
import {execFileSync, spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {kubeProxyRestore, syntheticServices} from './svc-gen.mjs'

const N = Number(process.argv[2] ?? 10000)
const RUNS = Number(process.argv[3] ?? 5)
const RUN = new URL('../bin/run.js', import.meta.url).pathname
const ns = `nd-svc-live-${process.pid}`
const work = mkdtempSync(join(tmpdir(), 'nd-svc-live-'))

/** One process under /usr/bin/time: wall ms, cpu ms, peak MiB. */
function timed(argv, out = '/dev/null') {
  const t = performance.now()
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', 'sh', '-c', '"$@" > "$0"', out, ...argv], {encoding: 'utf8', maxBuffer: 1 << 28})
  const ms = performance.now() - t
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`)
  const [user, sys, rss] = r.stderr.trim().split('\n').pop().split(' ').map(Number)
  return {ms, cpuMs: (user + sys) * 1000, rssMiB: rss / 1024}
}

function median(runs, key) {
  const v = runs.map((r) => r[key]).sort((a, b) => a - b)
  return v[Math.floor(v.length / 2)]
}

const services = syntheticServices(N)
const target = services.find((s, i) => i > N / 2 && s.endpoints.length === 10) ?? services[1]
try {
  execFileSync('ip', ['netns', 'add', ns])
  const restore = spawnSync('ip', ['netns', 'exec', ns, 'iptables-nft-restore'], {input: '*mangle\n:KUBE-IPTABLES-HINT - [0:0]\nCOMMIT\n' + kubeProxyRestore(services, {hooks: true}), maxBuffer: 1 << 28})
  if (restore.status !== 0) throw new Error(String(restore.stderr))
  const saved = join(work, 'saved.txt')
  writeFileSync(saved, execFileSync('ip', ['netns', 'exec', ns, 'iptables-nft-save'], {maxBuffer: 1 << 28}))
  const cases = {
    'iptables-nft-save (kernel)': ['ip', 'netns', 'exec', ns, 'iptables-nft-save'],
    [`svc ${target.namespace}/${target.name} live`]: ['ip', 'netns', 'exec', ns, process.execPath, RUN, 'svc', `${target.namespace}/${target.name}`, '-o', 'json'],
    [`svc ${target.namespace}/${target.name} live, whole save (--iptables-backend auto on a save)`]: [process.execPath, RUN, 'svc', `${target.namespace}/${target.name}`, '--iptables-save', saved, '-o', 'json'],
    'svc -A --iptables-save (table)': [process.execPath, RUN, 'svc', '-A', '--iptables-save', saved],
    'svc -A --iptables-save -o json': [process.execPath, RUN, 'svc', '-A', '--iptables-save', saved, '-o', 'json'],
  }
  const results = Object.fromEntries(Object.keys(cases).map((k) => [k, []]))
  // interleaved, so load changes touch every case alike
  for (let i = 0; i < RUNS; i++) for (const [name, argv] of Object.entries(cases)) results[name].push(timed(argv))
  const base = median(results['iptables-nft-save (kernel)'], 'ms')
  const baseCpu = median(results['iptables-nft-save (kernel)'], 'cpuMs')
  console.log(`${N} services, median of ${RUNS}, node ${process.version}, load ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')}`)
  console.log('| what | wall ms | x save | cpu ms | x save cpu | peak MiB |')
  console.log('|---|---:|---:|---:|---:|---:|')
  for (const [name, runs] of Object.entries(results)) {
    const ms = median(runs, 'ms')
    const cpu = median(runs, 'cpuMs')
    console.log(`| ${name} | ${ms.toFixed(0)} | ${(ms / base).toFixed(2)} | ${cpu.toFixed(0)} | ${(cpu / baseCpu).toFixed(2)} | ${median(runs, 'rssMiB').toFixed(0)} |`)
  }
} finally {
  spawnSync('ip', ['netns', 'del', ns])
  rmSync(work, {recursive: true, force: true})
}
