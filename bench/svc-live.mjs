// nodedoc svc on a node holding 10k kube-proxy services, beside the kernel's own iptables-save of
// the same rules, in one run: `svc NAME` live (iptables-nft backend: only the chains on the path),
// and `svc -A` from the saved rules as a table and as JSON. Each figure is a whole CLI process
// (bin/run.js), median of RUNS, wall and CPU (user+sys of the process tree), and peak RSS.
//   npm run build && node bench/svc-live.mjs [services=10000] [runs=5] [all|name|legacy|nft]
// `legacy`: only name's second table (the legacy backend), for more runs in the same time; `nft`:
// only its first (the nf_tables backend); `mixed`: svc NAME where kube-proxy uses nf_tables and the
// kernel also holds small legacy tables (no KUBE- rule in them), beside the nft save.
// `name`: only svc NAME live, beside the saves, on both backends (a second netns holds the same
// rules in iptables-legacy), and the floor: `node -e 0`, `--version` and the one listing svc NAME
// cannot do without (`iptables-nft -t nat -S KUBE-SERVICES`), and every listing the path needs
// (KUBE-SERVICES, the service's chain, its endpoints', the start chains and the filter table)
// under one xargs, alone, after `node -e 0` and beside `nodedoc --version`, and at their best (both
// cores, in the walk's order: what any tool needs at the least), alone and beside `node -e 0`, and
// the same chains by restore batches on two lanes, as svc NAME lists them, alone and beside `node -e 0`; on legacy, the save
// read by a bare node (its pipe as Buffers), alone, through cat and beside `nodedoc --version`, by cat, and by cat after `node -e 0`. BASELINE=path/to/bin/run.js adds
// another build's svc NAME live to the same run, and checks both print the same.
// CPU is every process of the run's, also those still running when its first process exits
// (svc's lister shells end a moment after nodedoc, not waited for by it): each run goes into a
// cpuacct cgroup of its own (cgroup v1, or cpu.stat on v2), read once it is empty; without
// one, /usr/bin/time's (the processes waited for).
// Needs root (ip netns, iptables-nft-restore); the netns and the cgroup are removed at the end.
import {execFileSync, spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync} from 'node:fs'
import {loadavg, tmpdir} from 'node:os'
import {join} from 'node:path'
import {PATH_PREFETCH, PATH_START} from '../dist/src/svc/iptables-path.js'
import {kubeProxyRestore, syntheticServices} from './svc-gen.mjs'
import {median, timed} from './timing.mjs'

const N = Number(process.argv[2] ?? 10000)
const RUNS = Number(process.argv[3] ?? 5)
const MODE = process.argv[4] ?? 'all'
const BASELINE = process.env.BASELINE
const RUN = new URL('../bin/run.js', import.meta.url).pathname
const ns = `nd-svc-live-${process.pid}`
const legacyNs = `nd-svc-live-${process.pid}-legacy`
const work = mkdtempSync(join(tmpdir(), 'nd-svc-live-'))

const load = () => loadavg().map((l) => l.toFixed(1)).join(' ')

/** A cgroup to count a run's CPU in, orphans too; undefined: none here. */
const cgroup = (() => {
  for (const [root, usage] of [['/sys/fs/cgroup/cpuacct', (dir) => Number(readFileSync(join(dir, 'cpuacct.usage'), 'utf8')) / 1e6], ['/sys/fs/cgroup', (dir) => Number(/usage_usec (\d+)/.exec(readFileSync(join(dir, 'cpu.stat'), 'utf8'))[1]) / 1e3]]) {
    const dir = join(root, `nd-svc-live-${process.pid}`)
    try {
      mkdirSync(dir)
      usage(dir)
      return {dir, usage: () => usage(dir), empty: () => readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim() === ''}
    } catch {
      if (existsSync(dir)) rmdirSync(dir)
    }
  }
  return undefined
})()

/** timed(), the CPU counted in the cgroup once every process of the run has ended. */
function timedTree(argv) {
  if (!cgroup) return timed(argv)
  const before = cgroup.usage()
  const r = timed(['sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cgroup.dir, ...argv])
  for (let i = 0; i < 500 && !cgroup.empty(); i++) spawnSync('sleep', ['0.01'])
  return {...r, cpuMs: cgroup.usage() - before}
}

/** svc NAME's answer without the moment it was read: its JSON, then its table. */
function answer(run, netns, name) {
  const svc = (...flags) => execFileSync('ip', ['netns', 'exec', netns, process.execPath, run, 'svc', name, ...flags], {encoding: 'utf8', maxBuffer: 1 << 28})
  return svc('-o', 'json').replace(/"capturedAt": "[^"]*"/, '') + svc()
}

function load10k(netns, restore) {
  execFileSync('ip', ['netns', 'add', netns])
  // kubelet's hint chain says which backend kube-proxy uses
  const r = spawnSync('ip', ['netns', 'exec', netns, restore], {input: '*mangle\n:KUBE-IPTABLES-HINT - [0:0]\nCOMMIT\n' + kubeProxyRestore(services, {hooks: true}), maxBuffer: 1 << 28})
  if (r.status !== 0) throw new Error(String(r.stderr))
}

/** Runs the cases interleaved (a load change touches every case alike) and prints the table, ratios against `base`. */
function measure(cases, base) {
  const results = Object.fromEntries(Object.keys(cases).map((k) => [k, []]))
  const before = load()
  for (let i = 0; i < RUNS; i++) for (const [name, argv] of Object.entries(cases)) results[name].push(timedTree(argv))
  const baseMs = median(results[base], 'ms')
  const baseCpu = median(results[base], 'cpuMs')
  console.log(`\n${N} services, median of ${RUNS}, node ${process.version}, load average ${before} before, ${load()} after, CPU ${cgroup ? 'of every process of the run (cgroup)' : 'of the processes waited for'}`)
  console.log(`| what | wall ms | x ${base} | cpu ms | x cpu | peak MiB |`)
  console.log('|---|---:|---:|---:|---:|---:|')
  for (const [name, runs] of Object.entries(results)) {
    const ms = median(runs, 'ms')
    const cpu = median(runs, 'cpuMs')
    console.log(`| ${name} | ${ms.toFixed(0)} | ${(ms / baseMs).toFixed(2)} | ${cpu.toFixed(0)} | ${(cpu / baseCpu).toFixed(2)} | ${median(runs, 'rssMiB').toFixed(0)} |`)
  }
  return results
}

const services = syntheticServices(N)
const target = services.find((s, i) => i > N / 2 && s.endpoints.length === 10) ?? services[1]
const name = `${target.namespace}/${target.name}`
try {
  if (MODE !== 'legacy') load10k(ns, 'iptables-nft-restore')
  const inNs = (...argv) => ['ip', 'netns', 'exec', ns, ...argv]
  if (MODE === 'mixed') measureMixed()
  else if (MODE === 'name' || MODE === 'legacy' || MODE === 'nft') {
    if (MODE !== 'legacy') measureNft()
    spawnSync('ip', ['netns', 'del', ns])
    if (MODE !== 'nft') measureLegacy()
  } else {
    const saved = join(work, 'saved.txt')
    writeFileSync(saved, execFileSync('ip', ['netns', 'exec', ns, 'iptables-nft-save'], {maxBuffer: 1 << 28}))
    measure({
      'iptables-nft-save (kernel)': inNs('iptables-nft-save'),
      [`svc ${name} live`]: inNs(process.execPath, RUN, 'svc', name, '-o', 'json'),
      [`svc ${name} live, whole save (--iptables-backend auto on a save)`]: [process.execPath, RUN, 'svc', name, '--iptables-save', saved, '-o', 'json'],
      'svc -A --iptables-save (table)': [process.execPath, RUN, 'svc', '-A', '--iptables-save', saved],
      'svc -A --iptables-save -o json': [process.execPath, RUN, 'svc', '-A', '--iptables-save', saved, '-o', 'json'],
    }, 'iptables-nft-save (kernel)')
  }

  /** svc NAME live on the nf_tables backend, beside the save and the floors. */
  function measureNft() {
    if (BASELINE && answer(RUN, ns, name) !== answer(BASELINE, ns, name)) throw new Error(`svc ${name}: this build and ${BASELINE} print different answers`)
    // the listings svc NAME's path reads, as `xargs -0 -n 4 iptables-nft` arguments
    const list = (...args) => execFileSync('ip', ['netns', 'exec', ns, 'iptables-nft', ...args], {encoding: 'utf8', maxBuffer: 1 << 28})
    const svcChain = new RegExp(`"${name}:\\S+ cluster IP" .*-j (KUBE-SVC-\\w+)`).exec(list('-t', 'nat', '-S', 'KUBE-SERVICES'))[1]
    const seps = [...list('-t', 'nat', '-S', svcChain).matchAll(/-j (KUBE-SEP-\w+)/g)].map((m) => m[1])
    const chains = ['KUBE-IPTABLES-HINT', 'KUBE-SERVICES', 'PREROUTING', 'OUTPUT', 'POSTROUTING', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ', svcChain, ...seps]
    const listings = join(work, 'path-listings')
    writeFileSync(listings, [...chains.flatMap((c) => ['-t', c === 'KUBE-IPTABLES-HINT' ? 'mangle' : 'nat', '-S', c]), '-t', 'filter', '-S', '-w'].join('\0') + '\0')
    const xargs = ['xargs', '-a', listings, '-0', '-n', '4', 'iptables-nft']
    // every program svc NAME runs on this node: the path's listings, IPv6's KUBE-SERVICES, and the
    // other gatherers' (kube-proxy's nft tables, routes, links, netns ids), one after another
    const others = [['ip6tables-nft', '-t', 'nat', '-S', 'KUBE-SERVICES'], ['nft', 'list', 'sets', 'table', 'ip', 'kube-proxy'], ['nft', 'list', 'sets', 'table', 'ip6', 'kube-proxy'],
      ['ip', '-j', '-4', 'route', 'show', 'table', 'all'], ['ip', '-j', '-6', 'route', 'show', 'table', 'all'], ['ip', '-j', '-d', 'link', 'show'], ['ip', '-j', 'netns', 'list-id']]
    const everything = join(work, 'every-program.sh')
    writeFileSync(everything, `"$@" || exit $?\n${others.map((argv) => `${argv.join(' ')} >/dev/null 2>&1`).join('\n')}\nexit 0\n`)
    // the least any tool answering svc NAME lists, run at its best on this machine's two cores: the
    // walk's order (KUBE-SERVICES, then the service's chain, then its endpoints' chains two at a time)
    // beside the chains every path starts from (the hint, the filter table, the nat start chains)
    const best = join(work, 'path-at-best.sh')
    writeFileSync(best, [
      'svc=$1; shift',
      '( iptables-nft -t nat -S KUBE-SERVICES; iptables-nft -t nat -S "$svc"; printf \'%s\\n\' "$@" | xargs -P 2 -n 1 iptables-nft -t nat -S ) >/dev/null &',
      `( ${chains.filter((c) => !['KUBE-SERVICES', svcChain, ...seps].includes(c)).map((c) => `iptables-nft -t ${c === 'KUBE-IPTABLES-HINT' ? 'mangle' : 'nat'} -S ${c}`).join('; ')}; iptables-nft -t filter -S ) >/dev/null`,
      'wait',
    ].join('\n') + '\n')
    const atBest = ['sh', best, svcChain, ...seps]
    // the same chains listed several at a time by one `iptables-nft-restore --noflush` (only `-S`
    // lines: read-only), as svc NAME lists them since session 30: the walk's lane (KUBE-SERVICES,
    // the service's chain, one restore of its endpoints' chains) beside the start chains' lane
    // (the hint, one restore of the filter table's start chains that are there, one of nat's)
    const filterThere = new Set([...list('-t', 'filter', '-S').matchAll(/^-[NP] (\S+)/gm)].map((m) => m[1]))
    const filterStart = PATH_START.filter(([table, c]) => table === 'filter' && filterThere.has(c)).map(([, c]) => c)
    const natStart = [...PATH_START, ...PATH_PREFETCH].filter(([table, c]) => table === 'nat' && c !== 'KUBE-SERVICES').map(([, c]) => c)
    const restoreOf = (table, names) => `printf '%s\\n' '*${table}' ${names.map((c) => `'-S ${c}'`).join(' ')} COMMIT | iptables-nft-restore --noflush`
    const batched = join(work, 'path-batched.sh')
    writeFileSync(batched, [
      `( iptables-nft -t nat -S KUBE-SERVICES; iptables-nft -t nat -S ${svcChain}; ${restoreOf('nat', seps)} ) >/dev/null &`,
      `( iptables-nft -t mangle -S KUBE-IPTABLES-HINT; ${restoreOf('filter', filterStart)}; ${restoreOf('nat', natStart)} ) >/dev/null`,
      'wait',
    ].join('\n') + '\n')
    const atBestBatched = ['sh', batched]
    const cases = {
      'iptables-nft-save (kernel)': inNs('iptables-nft-save'),
      [`svc ${name} live`]: inNs(process.execPath, RUN, 'svc', name, '-o', 'json'),
      ...(BASELINE ? {[`svc ${name} live, ${BASELINE}`]: inNs(process.execPath, BASELINE, 'svc', name, '-o', 'json')} : {}),
      'floor: node -e 0': inNs(process.execPath, '-e', '0'),
      'floor: nodedoc --version': inNs(process.execPath, RUN, '--version'),
      'floor: iptables-nft -t nat -S KUBE-SERVICES': inNs('iptables-nft', '-t', 'nat', '-S', 'KUBE-SERVICES'),
      [`floor: the path's ${chains.length + 1} listings under one xargs`]: inNs(...xargs),
      'floor: node -e 0, then those listings': inNs('sh', '-c', '"$@" && exec "$0" -e 0', process.execPath, ...xargs),
      [`floor: node -e 0, then every program svc NAME runs (those listings and ${others.length} more)`]: inNs('sh', '-c', 'f=$1; shift; "$0" -e 0 && . "$f"', process.execPath, everything, ...xargs),
      // the design svc NAME has (the listings started before the CLI loads), were its own work free
      'floor: those listings beside nodedoc --version, started together': inNs('sh', '-c', 'node="$0" run="$1"; shift; "$@" & "$node" "$run" --version >/dev/null; wait', process.execPath, RUN, ...xargs),
      [`floor: the path's ${chains.length + 1} listings at their best (both cores, in the walk's order)`]: inNs(...atBest),
      'floor: node -e 0 beside those, started together': inNs('sh', '-c', '"$@" & "$0" -e 0; wait', process.execPath, ...atBest),
      'floor: the same chains by restore batches, two lanes (as svc NAME lists them)': inNs(...atBestBatched),
      'floor: node -e 0 beside those batches, started together': inNs('sh', '-c', '"$@" & "$0" -e 0; wait', process.execPath, ...atBestBatched),
    }
    measure(cases, 'iptables-nft-save (kernel)')
  }

  /**
   * svc NAME live where kube-proxy uses nf_tables and something else made legacy tables (a filter
   * chain of its own, nat and mangle listed): the launcher's legacy starts go unused there.
   */
  function measureMixed() {
    for (const argv of [['-t', 'filter', '-N', 'LEGACY-ONLY'], ['-t', 'nat', '-S'], ['-t', 'mangle', '-S']]) execFileSync('ip', ['netns', 'exec', ns, 'iptables-legacy', ...argv], {stdio: 'ignore'})
    if (BASELINE && answer(RUN, ns, name) !== answer(BASELINE, ns, name)) throw new Error(`svc ${name} (legacy tables beside nf_tables): this build and ${BASELINE} print different answers`)
    measure({
      'iptables-nft-save (kernel)': inNs('iptables-nft-save'),
      [`svc ${name} live, legacy tables beside`]: inNs(process.execPath, RUN, 'svc', name, '-o', 'json'),
      ...(BASELINE ? {[`svc ${name} live, legacy tables beside, ${BASELINE}`]: inNs(process.execPath, BASELINE, 'svc', name, '-o', 'json')} : {}),
      'floor: node -e 0': inNs(process.execPath, '-e', '0'),
    }, 'iptables-nft-save (kernel)')
  }

  /** svc NAME live on the legacy backend, beside the save and the floors. */
  function measureLegacy() {
    // the legacy backend: every read fetches the whole table; svc lists the path's chains from
    // one fetch per table (restore --test), the floors below read the save
    load10k(legacyNs, 'iptables-legacy-restore')
    if (BASELINE && answer(RUN, legacyNs, name) !== answer(BASELINE, legacyNs, name)) throw new Error(`svc ${name} (legacy): this build and ${BASELINE} print different answers`)
    const inLegacy = (...argv) => ['ip', 'netns', 'exec', legacyNs, ...argv]
    measure({
      'iptables-legacy-save (kernel)': inLegacy('iptables-legacy-save'),
      [`svc ${name} live (legacy)`]: inLegacy(process.execPath, RUN, 'svc', name, '-o', 'json'),
      ...(BASELINE ? {[`svc ${name} live (legacy), ${BASELINE}`]: inLegacy(process.execPath, BASELINE, 'svc', name, '-o', 'json')} : {}),
      'floor: node -e 0': inLegacy(process.execPath, '-e', '0'),
      // the least any Node program can do with the save: read its pipe as Buffers, keep nothing
      'floor: node reading iptables-legacy-save as Buffers': inLegacy(process.execPath, '-e', "require('node:child_process').spawn('iptables-legacy-save', [], {stdio: ['ignore', 'pipe', 'inherit']}).stdout.on('data', () => {})"),
      'floor: iptables-legacy-save | cat': inLegacy('sh', '-c', 'iptables-legacy-save | cat'),
      // Node's start, then the save at cat's pace: what any reader started from Node pays first
      'floor: node -e 0, then iptables-legacy-save | cat': inLegacy('sh', '-c', '"$0" -e 0 && iptables-legacy-save | cat', process.execPath),
      // a reader between that takes the pipe whole per read, so the save never waits for Node's thread
      'floor: that bare node reading the save through cat': inLegacy(process.execPath, '-e', "require('node:child_process').spawn('sh', ['-c', 'iptables-legacy-save | cat'], {stdio: ['ignore', 'pipe', 'inherit']}).stdout.on('data', () => {})"),
      // the design svc NAME has (the save started before the CLI loads), were its own work free
      'floor: that bare node beside nodedoc --version, started together': inLegacy('sh', '-c', '"$0" -e "$2" & "$0" "$1" --version >/dev/null; wait', process.execPath, RUN, "require('node:child_process').spawn('iptables-legacy-save', [], {stdio: ['ignore', 'pipe', 'inherit']}).stdout.on('data', () => {})"),
    }, 'iptables-legacy-save (kernel)')
  }
} finally {
  spawnSync('ip', ['netns', 'del', ns])
  spawnSync('ip', ['netns', 'del', legacyNs])
  rmSync(work, {recursive: true, force: true})
  if (cgroup) rmdirSync(cgroup.dir)
}
