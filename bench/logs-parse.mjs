// Figures for `nodedoc logs`: CRI parsing speed and a whole CLI run over rotated + .gz files.
// Run after a build: node bench/logs-parse.mjs
import {execFileSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {gzipSync} from 'node:zlib'
import {parseCriLog} from '../dist/src/parse/cri-log.js'

function lines(n, start) {
  const out = []
  for (let i = 0; i < n; i++) {
    const t = new Date(start + i).toISOString().replace('Z', '123456Z')
    // one in ten lines split into a P and an F, as runtimes do past 16 KiB
    if (i % 10 === 0) out.push(`${t} stdout P GET /api/v1/items/${i} part-one `, `${t} stdout F part-two 200 ${i}`)
    else out.push(`${t} ${i % 3 ? 'stdout' : 'stderr'} F level=info msg="request served" path=/api/v1/items/${i} status=200 duration=${i % 97}ms`)
  }
  return out.join('\n') + '\n'
}

const text = lines(500_000, Date.UTC(2024, 4, 1))
const mb = Buffer.byteLength(text) / 2 ** 20
for (let run = 0; run < 3; run++) {
  const t0 = performance.now()
  const {entries} = parseCriLog(text)
  const ms = performance.now() - t0
  console.log(`parseCriLog: ${entries.length} entries from ${mb.toFixed(1)} MiB in ${ms.toFixed(0)} ms (${(mb / (ms / 1000)).toFixed(0)} MiB/s)`)
}

// the CLI over a kubelet-sized history: 4 rotated files (3 gzipped) + the live one, 10 MiB each
const root = mkdtempSync(join(tmpdir(), 'nodedoc-bench-'))
try {
  const dir = join(root, 'var/log/pods/default_bench_00000000-0000-4000-8000-000000000001/app')
  mkdirSync(dir, {recursive: true})
  const chunk = lines(85_000, Date.UTC(2024, 4, 1))
  for (const stamp of ['20240501-100000', '20240501-110000', '20240501-120000']) writeFileSync(join(dir, `0.log.${stamp}.gz`), gzipSync(chunk))
  writeFileSync(join(dir, '0.log.20240501-130000'), chunk)
  writeFileSync(join(dir, '0.log'), chunk)
  const total = (Buffer.byteLength(chunk) * 5) / 2 ** 20
  for (const args of [['--tail', '10'], []]) {
    const t0 = performance.now()
    const out = execFileSync('node', ['bin/run.js', 'logs', 'bench', '--host-root', root, ...args], {maxBuffer: 1 << 30})
    console.log(`nodedoc logs ${args.join(' ') || '(all)'}: ${total.toFixed(0)} MiB in 5 files (3 .gz) -> ${out.length} bytes out in ${(performance.now() - t0).toFixed(0)} ms`)
  }
} finally {
  rmSync(root, {recursive: true, force: true})
}
