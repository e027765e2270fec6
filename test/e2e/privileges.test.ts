// Least privilege, checked on pods containerd really made: every inspection command, run as root
// with its capability bounding set cut down to what docs/privileges.md lists (setpriv, as the
// DaemonSet's capability list does in a pod), must give the same answer as with full root. Each
// listed capability is also shown to be needed: without it the answer changes.
import {randomBytes} from 'node:crypto'
import {join} from 'node:path'
import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {type Capability, INSPECTION_CAPABILITIES, boundingSet} from '../../src/kubectl/privileges.js'
import type {PodReport} from '../../src/pods/types.js'
import {withoutCounters, withoutProvenance} from '../helpers/volatile.js'
import {podCatalogue} from './node/catalogue.js'
import {REPO} from './node/cli.js'
import {type TestNode, nodeDown, nodeUp} from './node/node.js'

const suffix = randomBytes(3).toString('hex')
const namespaces = {apps: `e2e-cap-${suffix}`, system: `e2e-cap-${suffix}-system`}
const specs = podCatalogue(namespaces)
let node: TestNode

/** nodedoc as root, with the given capabilities only (undefined: all of root's). */
async function run(args: string[], capabilities?: Capability[], netns?: string) {
  const cli = [process.execPath, join(REPO, 'bin', 'run.js'), ...args]
  const capped = capabilities ? ['setpriv', '--bounding-set', boundingSet(capabilities), '--inh-caps', '-all', '--', ...cli] : cli
  const argv = netns ? ['ip', 'netns', 'exec', netns, ...capped] : capped
  const result = await execa(argv[0], argv.slice(1), {reject: false, cwd: REPO, env: {NO_COLOR: '1'}, stdin: 'ignore'})
  return {stdout: String(result.stdout), stderr: String(result.stderr), exitCode: result.exitCode}
}

/** What two reads a moment apart must agree on, per command. */
const STABLE: Record<string, (json: any) => unknown> = {
  pod: (r: PodReport) => withoutCounters(r),
  ps: (rows: any) => (Array.isArray(rows) ? rows : rows.items).map((p: any) => [p.pid, p.pod, p.container, p.command]),
  net: (r: any) => withoutProvenance(r),
  svc: (r: any) => withoutProvenance(r),
  doctor: (rows: any) => (Array.isArray(rows) ? rows : rows.items).map((c: any) => [c.id, c.status]),
}

beforeAll(async () => {
  node = await nodeUp(namespaces, specs)
}, 300_000)

afterAll(async () => {
  node?.cri.close()
  expect(await nodeDown()).toEqual([])
})

describe('inspection with only the documented capabilities', () => {
  const commands = () => [
    ...node.pods.map((p) => ['pod', p.name, '-n', p.namespace, '-r', node.endpoint, '-o', 'json']),
    ['ps', '-o', 'json'],
    ['net', '-o', 'json'],
    ['svc', '-A', '-o', 'json'],
    ['doctor', '-o', 'json', '--check', 'prereqs,kernel,runtime,pods'],
  ]

  it('answers every command exactly as full root does', async () => {
    for (const args of commands()) {
      const full = await run(args)
      const least = await run(args, INSPECTION_CAPABILITIES)
      expect(least.exitCode, `${args.join(' ')}: ${least.stderr}`).toBe(full.exitCode)
      expect(least.stderr, args.join(' ')).toBe(full.stderr)
      if (full.stdout.trim().startsWith('{') || full.stdout.trim().startsWith('[')) {
        const stable = STABLE[args[0]]
        expect(stable(JSON.parse(least.stdout)), args.join(' ')).toEqual(stable(JSON.parse(full.stdout)))
      } else {
        expect(least.stdout, args.join(' ')).toBe(full.stdout)
      }
    }
  }, 240_000)

  it('reads the same log lines', async () => {
    const pod = node.pods.find((p) => p.name === 'core-k8s')!
    const args = ['logs', pod.name, '-n', pod.namespace, '--tail', '5']
    const full = await run(args)
    expect(full.exitCode, full.stderr).toBe(0)
    expect(await run(args, INSPECTION_CAPABILITIES)).toEqual(full)
  })

  it('needs SYS_PTRACE: without it a pod\'s namespaces and mounts cannot be read', async () => {
    const pod = node.pods.find((p) => p.name === 'core-k8s')!
    const args = ['pod', pod.name, '-n', pod.namespace, '-o', 'json']
    const full = JSON.parse((await run(args)).stdout) as PodReport
    const without = await run(args, INSPECTION_CAPABILITIES.filter((c) => c !== 'SYS_PTRACE'))
    const report = JSON.parse(without.stdout) as PodReport
    expect(withoutCounters(report)).not.toEqual(withoutCounters(full))
    expect(without.stderr).toMatch(/permission denied/)
  })

  // iptables-legacy-save asks the kernel only for the legacy tables it has (none on a node that
  // never used legacy: it then prints nothing and succeeds): a netns of the test's own holds one
  describe('in a netns that has a legacy table', () => {
    const netns = `nd-e2e-cap-${suffix}`
    beforeAll(async () => {
      await execa('ip', ['netns', 'add', netns])
      await execa('ip', ['netns', 'exec', netns, 'iptables-legacy', '-t', 'filter', '-S'])
    })
    afterAll(async () => {
      await execa('ip', ['netns', 'del', netns])
    })

    it('needs NET_RAW: without it iptables-legacy-save cannot ask the kernel', async () => {
      const args = ['svc', '-A', '-o', 'json']
      const without = await run(args, INSPECTION_CAPABILITIES.filter((c) => c !== 'NET_RAW'), netns)
      expect(without.stderr).toMatch(/iptables-legacy-save failed: .*Permission denied/)
      expect((await run(args, INSPECTION_CAPABILITIES, netns)).stderr).not.toMatch(/Permission denied/)
    })

    it('needs NET_ADMIN: without it kube-proxy\'s rules cannot be dumped', async () => {
      const args = ['doctor', '--check', 'iptables-backend', '-o', 'json']
      const full = await run(args, undefined, netns)
      const without = await run(args, INSPECTION_CAPABILITIES.filter((c) => c !== 'NET_ADMIN'), netns)
      expect(`${without.stdout}${without.stderr}`).not.toBe(`${full.stdout}${full.stderr}`)
      // it says it could not read the rules, not that the programs are missing
      const line = JSON.parse(without.stdout).items.find((i: {id: string}) => i.id === 'iptables-backend')
      expect(line).toMatchObject({status: 'SKIP', seen: expect.stringMatching(/^could not read the rules: iptables-legacy-save: .*Permission denied/)})
    })
  })
})
