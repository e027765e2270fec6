// Files a real runtime wrote: containerd (the test node of test/e2e/node) runs one pod whose
// container prints a line longer than containerd's 16 KiB limit, so the CRI log holds real P
// fragments. Then net and doctor read the same node: the pod behind its veth, its CNI address.
import {randomBytes} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {nodedoc, nodedocJson} from '../../e2e/node/cli.js'
import {type TestNode, nodeDown, nodeUp} from '../../e2e/node/node.js'
import {itemsOf} from '../../helpers/volatile.js'

const suffix = randomBytes(3).toString('hex')
const ns = {apps: `ndlogs-${suffix}`, system: `ndlogs-${suffix}-sys`}
const LONG = 40_000
let node: TestNode

beforeAll(async () => {
  node = await nodeUp(ns, [{
    name: 'talker',
    namespace: ns.apps,
    containers: [{
      name: 'talk',
      command: ['sh', '-c'],
      args: [`echo first; head -c ${LONG} /dev/zero | tr '\\0' a; echo; echo 'to stderr' >&2; echo last; exec sleep 10000`],
    }],
  }])
  // the runtime writes asynchronously: wait for the last line
  const logPath = node.pods[0].containers[0].logPath
  for (let i = 0; i < 100 && !readFileSync(logPath, 'utf8').includes('stdout F last'); i++) await new Promise((r) => setTimeout(r, 50))
}, 240_000)

afterAll(async () => {
  node?.cri.close()
  expect(await nodeDown()).toEqual([])
}, 240_000)

describe('nodedoc on a node containerd runs', () => {
  it('logs: joins containerd\'s 16 KiB P fragments back into the line the container printed', async () => {
    const raw = readFileSync(node.pods[0].containers[0].logPath, 'utf8')
    // containerd really split it: at least two P fragments before the F
    expect(raw.split('\n').filter((l) => / stdout P /.test(l)).length).toBeGreaterThanOrEqual(2)
    const report = await nodedocJson<{entries: Array<{stream: string; text: string; incomplete: boolean}>}>(['logs', 'talker', '-n', ns.apps])
    // stdout and stderr are two pipes: their order between each other is the runtime's timestamps
    const text = (stream: string) => report.entries.filter((e) => e.stream === stream).map((e) => e.text)
    expect(text('stdout')).toEqual(['first', 'a'.repeat(LONG), 'last'])
    expect(text('stderr')).toEqual(['to stderr'])
    expect(report.entries.every((e) => !e.incomplete)).toBe(true)
    const plain = await nodedoc(['logs', 'talker', '-n', ns.apps, '--stream', 'stdout', '--tail', '2'])
    expect(plain.exitCode, plain.stderr).toBe(0)
    // (the harness's nodedoc() trims stdout)
    expect(plain.stdout.split('\n').map((l) => (l === 'a'.repeat(l.length) ? `a x ${l.length}` : l))).toEqual([`a x ${LONG}`, 'last'])
  })

  it('net: the pod\'s veth is a port of the CNI bridge, tied to the pod and its IP', async () => {
    const report = await nodedocJson<any>(['net'])
    const pod = node.pods[0]
    const port = report.bridges.flatMap((b: any) => b.ports.map((p: any) => ({bridge: b.name, ...p}))).find((p: any) => p.pods.some((x: any) => x.uid === pod.uid))
    expect(port).toBeDefined()
    expect(port.kind).toBe('veth')
    expect(port.peerNetns).toMatch(/^cni-/)
    expect(port.pods[0]).toMatchObject({namespace: ns.apps, name: 'talker'})
    expect(report.cni.inUse).toMatchObject({plugins: ['bridge']})
    expect(report.cni.source).toMatch(/^containerd /)
    expect(report.podIpsWithoutRoute.filter((f: any) => f.pod?.uid === pod.uid)).toEqual([])
  })

  it('doctor: the runtime answers; its host-local allocation is held by the running sandbox', async () => {
    const results = itemsOf<any>(await nodedocJson(['doctor', '--check', 'cri-socket', '--check', 'cni-ip-leaks', '--check', 'leaked-cgroups']))
    expect(results.find((r) => r.id === 'cri-socket')).toMatchObject({status: 'PASS', seen: expect.stringMatching(/^containerd /)})
    expect(results.find((r) => r.id === 'cni-ip-leaks')).toMatchObject({status: 'PASS', seen: expect.stringMatching(/^\d+ allocations, all held by running sandboxes$/)})
  })
})
