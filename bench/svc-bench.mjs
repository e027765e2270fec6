// nodedoc svc benchmark: kube-proxy-shaped rules for 1k/10k/30k services (1-10 endpoints each),
// parse+trace time and peak memory for `svc NAME` and `svc -A`, beside the real kernel's
// `iptables-save` printing the same rules loaded into a throwaway netns.
//   npm run build && node bench/svc-bench.mjs [1000 10000 30000]
// Needs root for the kernel part (ip netns, iptables-restore); without it, reports ours only.
import {execFileSync, spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {kubeProxyRestore, syntheticServices} from './svc-gen.mjs'

const sizes = process.argv.slice(2).map(Number).filter(Boolean)
const SIZES = sizes.length ? sizes : [1000, 10000, 30000]
const dist = new URL('../dist/src/', import.meta.url).pathname
const work = mkdtempSync(join(tmpdir(), 'nd-svc-bench-'))
const isRoot = process.getuid?.() === 0

// one run in a fresh process, so peak RSS is this run's alone
const RUNNER = `
const {readFileSync} = await import('node:fs')
const {parseIptablesSave} = await import(process.env.DIST + 'parse/iptables.js')
const {traceIptables} = await import(process.env.DIST + 'svc/iptables-trace.js')
const {buildSvcReport} = await import(process.env.DIST + 'svc/correlate.js')
const text = readFileSync(process.env.FILE, 'utf8')
const t0 = performance.now()
const c0 = process.cpuUsage()
const rules = {iptables: {backend: 'file', reason: 'bench', ipv4: text, ipv6: ''}, nft: null, ipvs: null, problems: []}
const query = process.env.QUERY === 'all' ? {} : {name: process.env.QUERY}
const report = buildSvcReport(rules, {routes: [], pods: []}, query)
const ms = performance.now() - t0
const cpu = process.cpuUsage(c0)
const cpuMs = (cpu.user + cpu.system) / 1000
if (process.env.QUERY !== 'all' && report.services.length !== 1) throw new Error('service not found: ' + process.env.QUERY)
console.log(JSON.stringify({ms, cpuMs, services: report.services.length, endpoints: report.services.reduce((a, s) => a + s.endpoints.length, 0), maxRssMiB: process.resourceUsage().maxRSS / 1024}))
`

function ours(file, query) {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', RUNNER], {env: {...process.env, DIST: dist, FILE: file, QUERY: query}, maxBuffer: 1 << 26})
  return JSON.parse(String(out))
}

function baseline() {
  // what a node process holds before reading anything
  const out = execFileSync(process.execPath, ['-e', 'console.log(process.resourceUsage().maxRSS / 1024)'])
  return Number(String(out))
}

function kernel(text, n) {
  if (!isRoot) return null
  const ns = `nd-svc-bench-${process.pid}-${n}`
  try {
    execFileSync('ip', ['netns', 'add', ns])
    let t = performance.now()
    const restore = spawnSync('ip', ['netns', 'exec', ns, 'iptables-restore'], {input: text, maxBuffer: 1 << 28})
    if (restore.status !== 0) throw new Error(String(restore.stderr))
    const restoreMs = performance.now() - t
    const runs = []
    let saved = ''
    for (let i = 0; i < 3; i++) {
      t = performance.now()
      const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', 'ip', 'netns', 'exec', ns, 'iptables-save'], {maxBuffer: 1 << 28})
      const [, user, sys, rssKiB] = String(r.stderr).trim().split('\n').pop().split(' ').map(Number)
      saved = String(r.stdout)
      runs.push({ms: performance.now() - t, cpuMs: (user + sys) * 1000, maxRssMiB: rssKiB / 1024})
    }
    runs.sort((a, b) => a.ms - b.ms)
    return {restoreMs, save: runs[0], saved}
  } finally {
    spawnSync('ip', ['netns', 'del', ns])
  }
}

const rows = []
const base = baseline()
try {
  for (const n of SIZES) {
    const services = syntheticServices(n)
    const text = kubeProxyRestore(services, {hooks: true})
    const rules = text.split('\n').filter((l) => l.startsWith('-A')).length
    const k = kernel(text, n)
    // trace what the kernel printed when we have it (the iptables-save dialect), else the restore input
    const file = join(work, `rules-${n}.txt`)
    writeFileSync(file, k ? k.saved : text)
    const target = services.find((s, i) => i > n / 2 && s.endpoints.length === 10) ?? services[1]
    const one = ours(file, `${target.namespace}/${target.name}`)
    const all = ours(file, 'all')
    rows.push({services: n, rules, bytes: (k ? k.saved : text).length, one, all, kernel: k && {restoreMs: k.restoreMs, ...k.save}})
    const kernelText = k ? `iptables-save ${k.save.ms.toFixed(0)} ms wall / ${k.save.cpuMs.toFixed(0)} ms cpu / ${k.save.maxRssMiB.toFixed(0)} MiB (restore ${(k.restoreMs / 1000).toFixed(1)} s)` : 'kernel: skipped (not root)'
    const fmt = (r) => `${r.ms.toFixed(0)} ms wall / ${r.cpuMs.toFixed(0)} ms cpu / ${r.maxRssMiB.toFixed(0)} MiB`
    console.log(`${n} services, ${rules} rules: svc NAME ${fmt(one)}; svc -A ${fmt(all)} (${all.services} services, ${all.endpoints} endpoints); ${kernelText}`)
  }
} finally {
  rmSync(work, {recursive: true, force: true})
}
console.log(`(node baseline RSS ${base.toFixed(0)} MiB; node ${process.version}; load average ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')})`)
console.log(JSON.stringify(rows))
