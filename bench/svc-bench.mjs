// nodedoc svc benchmark: kube-proxy-shaped rules for 1k/10k/30k services (1-10 endpoints each),
// loaded into a throwaway netns with the real `iptables-restore`; then, interleaved in one run,
// whole processes timed side by side: the kernel's own `iptables-save` of those rules, and
// `nodedoc svc -A --iptables-save F` (table and -o json) on what that save printed; `svc NAME`
// too. Wall and CPU (user+sys of the process tree, /usr/bin/time), peak RSS; medians of RUNS.
//   npm run build && node bench/svc-bench.mjs [--runs 5] [--before DIR] [--no-kernel] [--in-process] [1000 10000 30000]
// --before DIR: another build of nodedoc (a checkout or copy with bin/ and dist/ built) timed in the
// same rounds, and its table, wide, json and yaml output compared byte for byte with this build's
// (capturedAt, the time of the run, left out): performance work must not change what svc prints.
// A save over the 256 MiB a rules file may hold is traced in-process instead (the same read,
// trace and writeOutput, in a plain node process); --in-process adds that at every size.
// Needs root for the kernel part (ip netns, iptables-restore); without it (or with --no-kernel), traces the restore input.
import {execFileSync, spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {loadavg, tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {kubeProxyRestore, syntheticServices} from './svc-gen.mjs'
import {median, timed} from './timing.mjs'

const args = process.argv.slice(2)
const option = (name) => {
  const at = args.indexOf(name)
  return at < 0 ? undefined : args.splice(at, 2)[1]
}
const RUNS = Number(option('--runs') ?? 5)
const BEFORE = option('--before')
const noKernel = args.includes('--no-kernel')
const sizes = args.filter((a) => !a.startsWith('--')).map(Number).filter(Boolean)
const SIZES = sizes.length ? sizes : [1000, 10000, 30000]
const RUN = new URL('../bin/run.js', import.meta.url).pathname
const work = mkdtempSync(join(tmpdir(), 'nd-svc-bench-'))
const isRoot = process.getuid?.() === 0 && !noKernel
const load = () => loadavg().map((l) => l.toFixed(1)).join(' ')

/**
 * `svc -A --iptables-save FILE -o FORMAT` as the command runs it (read, trace, print through
 * writeOutput to stdout) in a plain node process over the tsc output: for saves over the 256 MiB a
 * rules file may hold, which the CLI refuses to read.
 */
const IN_PROCESS = `
const dist = process.env.DIST
const {readFileSync} = await import('node:fs')
const {buildSvcReport} = await import(dist + 'svc/correlate.js')
const {writeOutput} = await import(dist + 'output/output.js')
const {renderAll, SERVICE_LIST} = await import(dist + 'svc/render.js')
const file = process.env.FILE
const report = buildSvcReport({iptables: {backend: 'file', reason: file, ipv4: readFileSync(file, 'utf8'), ipv6: ''}, nft: null, ipvs: null, problems: []}, null, {})
writeOutput(report, {kind: process.env.FORMAT}, renderAll, SERVICE_LIST, {node: null, capturedAt: new Date().toISOString()}, {}, (chunk) => process.stdout.write(chunk))
`
const DIST = new URL('../dist/src/', import.meta.url).pathname
const inProcess = (file, format) => ['env', `DIST=${DIST}`, `FILE=${file}`, `FORMAT=${format}`, process.execPath, '--input-type=module', '-e', IN_PROCESS]
/** What a rules file named on the command line may hold (src/svc/gather.ts RULES_MAX_BYTES). */
const RULES_FILE_CAP = 256 * 1024 * 1024

/** The output without its capturedAt line (the one field that is the time of the run). */
function comparable(file) {
  return readFileSync(file, 'utf8').replace(/^( *"?capturedAt"?: ).*$/m, '$1-')
}

/** Loads the rules into a throwaway netns; returns what the kernel's iptables-save prints and the netns. */
function kernelRules(text, n) {
  const ns = `nd-svc-bench-${process.pid}-${n}`
  execFileSync('ip', ['netns', 'add', ns])
  const t = performance.now()
  const restore = spawnSync('ip', ['netns', 'exec', ns, 'iptables-restore'], {input: text, maxBuffer: 1 << 28})
  if (restore.status !== 0) {
    spawnSync('ip', ['netns', 'del', ns])
    throw new Error(String(restore.stderr))
  }
  const restoreMs = performance.now() - t
  return {ns, restoreMs, saved: execFileSync('ip', ['netns', 'exec', ns, 'iptables-save'], {maxBuffer: 1 << 28, encoding: 'utf8'})}
}

const tables = []
try {
  for (const n of SIZES) {
    const services = syntheticServices(n)
    const text = kubeProxyRestore(services, {hooks: true})
    const rules = text.split('\n').filter((l) => l.startsWith('-A')).length
    const kernel = isRoot ? kernelRules(text, n) : null
    try {
      // trace what the kernel printed when we have it (the iptables-save dialect), else the restore input
      const file = join(work, `rules-${n}.txt`)
      writeFileSync(file, kernel ? kernel.saved : text)
      const target = services.find((s, i) => i > n / 2 && s.endpoints.length === 10) ?? services[1]
      const builds = {'': RUN, ...(BEFORE ? {' (before)': join(resolve(BEFORE), 'bin/run.js')} : {})}
      const cases = {}
      if (kernel) cases['iptables-save (kernel)'] = ['ip', 'netns', 'exec', kernel.ns, 'iptables-save']
      const cli = (kernel ? kernel.saved : text).length <= RULES_FILE_CAP
      if (cli) {
        for (const [label, run] of Object.entries(builds)) {
          cases[`svc -A --iptables-save (table)${label}`] = [process.execPath, run, 'svc', '-A', '--iptables-save', file]
          cases[`svc -A --iptables-save -o json${label}`] = [process.execPath, run, 'svc', '-A', '--iptables-save', file, '-o', 'json']
        }
        cases[`svc ${target.namespace}/${target.name} --iptables-save -o json`] = [process.execPath, RUN, 'svc', `${target.namespace}/${target.name}`, '--iptables-save', file, '-o', 'json']
      }
      if (!cli || args.includes('--in-process')) {
        cases['svc -A (table), in-process'] = inProcess(file, 'table')
        cases['svc -A -o json, in-process'] = inProcess(file, 'json')
      }
      const results = Object.fromEntries(Object.keys(cases).map((k) => [k, []]))
      const loads = [load()]
      // interleaved, so a change of load touches every case alike
      for (let i = 0; i < RUNS; i++) {
        for (const [name, argv] of Object.entries(cases)) results[name].push(timed(argv))
        loads.push(load())
      }
      const compared = []
      if (BEFORE && cli) {
        for (const format of ['table', 'wide', 'json', 'yaml']) {
          const outs = Object.entries(builds).map(([label, run]) => {
            const out = join(work, `out-${n}-${format}${label ? '-before' : ''}`)
            timed([process.execPath, run, 'svc', '-A', '--iptables-save', file, '-o', format], out)
            return comparable(out)
          })
          if (outs[0] !== outs[1]) throw new Error(`svc -A -o ${format} on ${n} services: this build's output differs from ${BEFORE}'s`)
          compared.push(`${format} ${(outs[0].length / 1048576).toFixed(1)} MiB sha256 ${createHash('sha256').update(outs[0]).digest('hex').slice(0, 12)}`)
        }
      }
      const base = kernel ? results['iptables-save (kernel)'] : null
      const lines = [`### ${n} services, ${rules} rules, ${((kernel ? kernel.saved : text).length / 1048576).toFixed(1)} MiB of ${kernel ? 'iptables-save output' : 'restore input'}${kernel ? `, restore ${(kernel.restoreMs / 1000).toFixed(1)} s` : ''}`,
        `median of ${RUNS}, interleaved; node ${process.version}; load average (1 5 15 min) before and after each round: ${loads.join(' | ')}`,
        '', '| what | wall ms | cpu ms | peak MiB | x save wall | x save cpu | x json cpu |', '|---|---:|---:|---:|---:|---:|---:|']
      for (const [name, runs] of Object.entries(results)) {
        // a table beside the JSON of the same build
        const json = results[name.endsWith(', in-process') ? 'svc -A -o json, in-process' : `svc -A --iptables-save -o json${name.endsWith(' (before)') ? ' (before)' : ''}`]
        const x = (key, of) => (of ? (median(runs, key) / median(of, key)).toFixed(2) : '-')
        lines.push(`| ${name} | ${median(runs, 'ms').toFixed(0)} | ${median(runs, 'cpuMs').toFixed(0)} | ${median(runs, 'rssMiB').toFixed(0)} | ${x('ms', base)} | ${x('cpuMs', base)} | ${x('cpuMs', json)} |`)
      }
      if (compared.length) lines.push('', `svc -A output identical to ${BEFORE}'s build: ${compared.join('; ')}`)
      tables.push(lines.join('\n'))
      console.log(lines.join('\n') + '\n')
    } finally {
      if (kernel) spawnSync('ip', ['netns', 'del', kernel.ns])
    }
  }
} finally {
  rmSync(work, {recursive: true, force: true})
}
