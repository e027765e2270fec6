// A live save larger than execa's 100 MB buffer (40k kube-proxy services, bench/svc-gen.mjs) is
// read: svc NAME cuts it to the path and answers as the whole save does, svc -A gets it whole;
// one past the 256 MiB cap on rules is one line naming the program. The saves come from scripts
// named iptables-legacy-save in a folder of this test's own, first on PATH: no kernel touched.
import {chmodSync, existsSync, mkdirSync, writeFileSync} from 'node:fs'
import {join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {execa} from 'execa'
import {beforeAll, describe, expect, it} from 'vitest'
import {LiveHost} from '../../../src/host/live.js'
import {buildSvcReport, queryHint} from '../../../src/svc/correlate.js'
import {RULES_MAX_BYTES, gatherKubeProxyRules} from '../../../src/svc/gather.js'
import {tempFolder} from '../../helpers/temp-folder.js'
// @ts-expect-error plain JS generator shared with the benchmark
import {kubeProxyRestore, syntheticServices} from '../../../bench/svc-gen.mjs'

const ROOT = resolve(fileURLToPath(import.meta.url), '../../../..')
const BIN = join(ROOT, 'bin/run.js')
const BUILT = existsSync(join(ROOT, 'dist/commands/svc.js'))
if (!BUILT) console.warn('dist/commands/svc.js missing (run npm run build): the svc CLI case is skipped')

const work = tempFolder('nd-big-save-')

/** iptables-legacy-save, as a script of ours printing what body prints. */
function fakeSave(folder: string, body: string): string {
  const dir = join(work, folder)
  mkdirSync(dir, {recursive: true})
  const path = join(dir, 'iptables-legacy-save')
  writeFileSync(path, `#!/bin/sh\n${body}\n`)
  chmodSync(path, 0o755)
  return dir
}

/** Runs work with PATH holding only dir: the programs svc looks for are ours, or not there. */
async function onPath<T>(dir: string, work: () => Promise<T>): Promise<T> {
  const saved = process.env.PATH
  process.env.PATH = dir
  try {
    return await work()
  } finally {
    process.env.PATH = saved
  }
}

describe('a live save past 100 MB', () => {
  const services = syntheticServices(40000) as Array<{namespace: string; name: string; endpoints: unknown[]}>
  const target = services.find((s, i) => i > 30000 && s.endpoints.length > 2)!
  const query = {name: `${target.namespace}/${target.name}`}
  let size = 0
  let bin = ''
  beforeAll(() => {
    const save = '*mangle\n:KUBE-IPTABLES-HINT - [0:0]\nCOMMIT\n' + kubeProxyRestore(services, {hooks: true})
    size = Buffer.byteLength(save)
    writeFileSync(join(work, 'save.txt'), save)
    bin = fakeSave('bin', `exec /bin/cat ${join(work, 'save.txt')}`)
  }, 120_000)

  it('svc NAME: the legacy save cut to the path answers as the whole save does; svc -A reads it whole', async () => {
    expect(size).toBeGreaterThan(100_000_000)
    const host = new LiveHost('/')
    const [path, whole] = await onPath(bin, () => Promise.all([gatherKubeProxyRules(host, {hint: queryHint(query)}), gatherKubeProxyRules(new LiveHost('/'))]))
    expect(host.warnings.list()).toEqual([])
    expect(path.iptables?.backend).toBe('legacy')
    expect(path.iptables!.ipv4.length).toBeLessThan(100_000)
    expect(whole.iptables?.backend).toBe('legacy')
    expect(Buffer.byteLength(whole.iptables!.ipv4)).toBe(size - 1)
    const a = buildSvcReport(path, null, query)
    const b = buildSvcReport(whole, null, query)
    expect(a.services.length).toBeGreaterThan(0)
    expect(a.services).toEqual(b.services)
    expect(a.problems).toEqual(b.problems)
  }, 180_000)

  it.skipIf(!BUILT)('past the 256 MiB cap: one line naming the program, exit 3', async () => {
    const endless = fakeSave('endless', 'exec /usr/bin/yes -- "-A KUBE-SERVICES -j RETURN"')
    const r = await execa(process.execPath, [BIN, 'svc', query.name], {reject: false, env: {PATH: endless, NO_COLOR: '1'}, cwd: ROOT, timeout: 120_000})
    expect(r.exitCode).toBe(3)
    expect(r.stderr.trim().split('\n')).toEqual([`error: iptables-legacy-save printed more than ${RULES_MAX_BYTES / 1024 / 1024} MiB: nodedoc reads at most that much of a program's output`])
  }, 180_000)
})
