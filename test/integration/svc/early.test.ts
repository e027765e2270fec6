// A live `svc NAME` through bin/run.js: the launcher starts its listings and saves before the CLI
// loads (src/svc/early.ts); the answer is the same as the plain oclif start's (NODEDOC_BUNDLE=0,
// which starts nothing early, and to the early start then oclif's, NODEDOC_DIRECT=0), and nothing
// it started is left in the netns afterwards. Needs
// `npm run build` first (the bundle), root, and iptables-nft-restore.
import {existsSync} from 'node:fs'
import {join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
// @ts-expect-error plain JS generator shared with the benchmark
import {kubeProxyRestore, syntheticServices} from '../../../bench/svc-gen.mjs'
import {IS_ROOT, Netns, have, netnsName, run} from './netns.js'

const ROOT = resolve(fileURLToPath(import.meta.url), '../../../..')
const BIN = join(ROOT, 'bin/run.js')
const BUILT = existsSync(join(ROOT, 'dist/nodedoc/svc-early.cjs'))
const HAVE = IS_ROOT && BUILT && (await have('iptables-nft-restore')) && (await have('iptables-legacy-restore'))
if (!HAVE) console.warn('svc early-start test needs root, iptables-nft/legacy-restore and `npm run build`: skipped')

const services = syntheticServices(300) as Array<{namespace: string; name: string; endpoints: unknown[]}>
const target = services.find((s) => s.endpoints.length > 2)!
const NAME = `${target.namespace}/${target.name}`

/** svc's stdout and exit code in the netns, without the moment it was read. */
async function svc(ns: Netns, env: Record<string, string>, ...args: string[]) {
  const r = await run(['env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), 'ip', 'netns', 'exec', ns.name, process.execPath, BIN, 'svc', ...args])
  return {exitCode: r.exitCode, stdout: r.stdout.replace(/"capturedAt": "[^"]*"/, ''), stderr: r.stderr}
}

/** Processes still in the netns (an early program nobody reaped would be one). */
async function inside(ns: Netns): Promise<string> {
  return (await run(['ip', 'netns', 'pids', ns.name])).stdout.trim()
}

describe.skipIf(!HAVE)('svc NAME started early by the launcher', () => {
  const made: Netns[] = []
  let nft: Netns
  let legacy: Netns
  beforeAll(async () => {
    const rules = '*mangle\n:KUBE-IPTABLES-HINT - [0:0]\nCOMMIT\n' + kubeProxyRestore(services, {hooks: true})
    made.push((nft = await Netns.create(netnsName('early-nft'))))
    await nft.must(['iptables-nft-restore'], rules)
    made.push((legacy = await Netns.create(netnsName('early-legacy'))))
    await legacy.must(['iptables-legacy-restore'], rules)
  })
  afterAll(async () => {
    for (const ns of made) await ns.delete()
  })

  for (const [what, ns, args] of [
    ['nf_tables backend, JSON', () => nft, ['-o', 'json']],
    ['nf_tables backend, table, --iptables-backend nft', () => nft, ['--iptables-backend', 'nft']],
    ['legacy backend, JSON', () => legacy, ['-o', 'json']],
    ['legacy backend, table, --iptables-backend legacy', () => legacy, ['--iptables-backend=legacy']],
    ['a service not there', () => nft, ['-n', 'no-such-namespace']],
  ] as Array<[string, () => Netns, string[]]>) {
    it(`${what}: the same answer as without an early start, and nothing left behind`, async () => {
      const early = await svc(ns(), {}, NAME, ...args)
      expect(await inside(ns())).toBe('')
      // the early start then oclif's start (the launcher's direct path, src/cli/direct-svc.ts, is the default)
      const oclif = await svc(ns(), {NODEDOC_DIRECT: '0'}, NAME, ...args)
      expect(await inside(ns())).toBe('')
      const plain = await svc(ns(), {NODEDOC_BUNDLE: '0'}, NAME, ...args)
      for (const other of [oclif, plain]) {
        expect(early.stdout).toBe(other.stdout)
        expect(early.stderr).toBe(other.stderr)
        expect(early.exitCode).toBe(other.exitCode)
      }
      expect(await inside(ns())).toBe('')
    })
  }

  it('a flag error before any work: nothing left behind', async () => {
    const r = await svc(nft, {}, NAME, '-o', 'no-such-format')
    expect(r.exitCode).not.toBe(0)
    for (let i = 0; i < 50 && (await inside(nft)) !== ''; i++) await new Promise((r) => setTimeout(r, 20))
    expect(await inside(nft)).toBe('')
  })
})
