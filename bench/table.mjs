// Table layout at scale: nodedoc's `columns` (src/output/table.ts, what every command's table
// goes through) and the last terminal-safe pass, at 1k to 100k rows, fitted to 80 columns and
// wide; beside them cli-table3 laying out the same cells without borders, which is why the
// tables are not drawn with it (docs/perf.md, "Tables").
//   npm run build && node bench/table.mjs [runs=5] [--before DIR]
// In one process: the first call (cold code) and the median of RUNS warm calls per size.
// --before DIR: another checkout's build (its dist/) laid out in the same run, after checking
// that both print the same bytes at every size and width.
import {createRequire} from 'node:module'
import {loadavg} from 'node:os'

const args = process.argv.slice(2)
const beforeAt = args.indexOf('--before')
const BEFORE = beforeAt >= 0 ? args.splice(beforeAt, 2)[1] : undefined
const RUNS = Number(args[0] ?? 5)
const {columns, tableOptions} = await import(new URL('../dist/src/output/table.js', import.meta.url).href)
const before = BEFORE && await import(new URL(`file://${BEFORE}/dist/src/output/table.js`).href)
const {terminalSafe} = await import(new URL('../dist/src/output/escape.js', import.meta.url).href)
const Table = createRequire(import.meta.url)('cli-table3')

const HEAD = ['namespace', 'name', 'type', 'cluster-ip', 'port', 'endpoints', 'chain']
/** Rows shaped like `svc -A`'s: a few long names, most short, one column past 80 when wide. */
function rows(n) {
  return Array.from({length: n}, (_, i) => [
    `ns${i % 40}`, i % 97 === 0 ? `a-much-longer-service-name-for-row-${i}` : `svc-${i}`, 'ClusterIP',
    `10.96.${(i >> 8) & 255}.${i & 255}`, `${80 + (i % 9000)}/TCP`, String(1 + (i % 10)), `KUBE-SVC-${String(i).padStart(16, 'X')}`,
  ])
}

function time(fn) {
  const t = performance.now()
  const out = fn()
  return {ms: performance.now() - t, bytes: out.length}
}

const median = (values) => values.slice().sort((a, b) => a - b)[Math.floor(values.length / 2)]

function nodedoc(data, width, table = {columns, tableOptions}) {
  table.tableOptions.width = width
  return terminalSafe(table.columns(HEAD, data))
}

const BORDERLESS = Object.fromEntries(['top', 'top-mid', 'top-left', 'top-right', 'bottom', 'bottom-mid', 'bottom-left', 'bottom-right',
  'left', 'left-mid', 'mid', 'mid-mid', 'right', 'right-mid'].map((k) => [k, '']))
function cliTable3(data) {
  const table = new Table({head: HEAD.map((h) => h.toUpperCase()), chars: {...BORDERLESS, middle: '   '},
    style: {head: [], border: [], 'padding-left': 0, 'padding-right': 0}})
  table.push(...data)
  return table.toString()
}

const cases = [
  ['nodedoc, 80 columns', (d) => nodedoc(d, 80), [1_000, 10_000, 100_000]],
  ['nodedoc, wide', (d) => nodedoc(d, Infinity), [1_000, 10_000, 100_000]],
  ['cli-table3, no borders', cliTable3, [1_000, 5_000, 10_000]],
]
if (before) {
  for (const n of [1_000, 10_000, 100_000]) for (const width of [80, Infinity]) {
    const data = rows(n)
    if (nodedoc(data, width) !== nodedoc(data, width, before)) throw new Error(`${n} rows, width ${width}: this build and ${BEFORE} differ`)
  }
  console.log(`(same bytes as ${BEFORE} at 1k, 10k and 100k rows, 80 columns and wide)`)
  cases.splice(2, 0, ['before, 80 columns', (d) => nodedoc(d, 80, before), [1_000, 10_000, 100_000]],
    ['before, wide', (d) => nodedoc(d, Infinity, before), [1_000, 10_000, 100_000]])
}
console.log(`node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}, median of ${RUNS} warm runs`)
console.log('| rows | layout | first call ms | median ms | ms per 1k rows | output bytes |')
console.log('|---:|---|---:|---:|---:|---:|')
for (const [name, fn, sizes] of cases) {
  for (const n of sizes) {
    const data = rows(n)
    const first = time(() => fn(data))
    // cli-table3 at 10k takes seconds a call: one warm run is enough to show it
    const runs = name.startsWith('cli-table3') && n > 1_000 ? 1 : RUNS
    const warm = Array.from({length: runs}, () => time(() => fn(data)).ms)
    const ms = median(warm)
    console.log(`| ${n} | ${name} | ${first.ms.toFixed(1)} | ${ms.toFixed(1)} | ${(ms / (n / 1000)).toFixed(2)} | ${first.bytes} |`)
  }
}
