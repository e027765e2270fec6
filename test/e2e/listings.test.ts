// `nodedoc pods` and `nodedoc containers` against the runtime's own lists on pods containerd
// really made: every sandbox ListPodSandbox names (name, namespace, state, IP), every container
// ListContainers names, an exited one included with its exit code; and the same pods from host
// files alone when the CRI socket is hidden.
import {randomBytes} from 'node:crypto'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {podCatalogue} from './node/catalogue.js'
import {nodedoc} from './node/cli.js'
import {type TestNode, nodeDown, nodeUp} from './node/node.js'

const suffix = randomBytes(3).toString('hex')
const namespaces = {apps: `e2e-ls-${suffix}`, system: `e2e-ls-${suffix}-system`}
const specs = podCatalogue(namespaces)
let node: TestNode
let stoppedId: string

const json = async (args: string[]) => {
  const result = await nodedoc([...args, '-o', 'json'])
  expect(result.exitCode, result.stderr).toBe(0)
  return JSON.parse(result.stdout)
}

beforeAll(async () => {
  node = await nodeUp(namespaces, specs)
  // one container stopped as the kubelet stops it: the runtime keeps it, exited, with its code
  const running = await node.cri.listContainers()
  const duo = node.pods.find((p) => p.containers.length > 1)!
  stoppedId = running.find((c) => c.podSandboxId === duo.sandboxId && c.state === 'CONTAINER_RUNNING')!.id
  await node.cri.stopContainer(stoppedId, 1)
}, 300_000)

afterAll(async () => {
  node?.cri.close()
  expect(await nodeDown()).toEqual([])
})

describe('pods', () => {
  it('lists every sandbox the runtime lists, with its namespace, state and IP', async () => {
    const rows = (await json(['pods', '-r', node.endpoint])).items as Array<{namespace: string; name: string; uid: string; ip: string | null; status: string; ready: string}>
    const sandboxes = await node.cri.listPodSandbox()
    const ours = sandboxes.filter((s) => s.metadata?.namespace?.startsWith(`e2e-ls-${suffix}`))
    expect(ours.length).toBe(specs.length)
    for (const sandbox of ours) {
      const row = rows.find((r) => r.uid === sandbox.metadata!.uid)
      expect(row, sandbox.metadata!.name).toBeDefined()
      expect(row).toMatchObject({namespace: sandbox.metadata!.namespace, name: sandbox.metadata!.name})
      const status = await node.cri.podSandboxStatus(sandbox.id)
      expect(row!.ip).toBe(status.status?.network?.ip || null)
      expect(sandbox.state).toBe('SANDBOX_READY')
    }
    const duo = node.pods.find((p) => p.containers.length > 1)!
    const duoRow = rows.find((r) => r.uid === duo.uid)!
    expect(duoRow.ready).toBe(`${duo.containers.length - 1}/${duo.containers.length}`)
    expect(duoRow.status).not.toBe('Running')
  })

  it('finds the same pods from host files alone, and filters by namespace, labels and status', async () => {
    const withCri = (await json(['pods', '-r', node.endpoint, '-n', namespaces.apps])).items as Array<{uid: string; name: string; status: string}>
    const hidden = (await json(['pods', '-r', `unix:///run/nodedoc-hidden-${suffix}.sock`, '-n', namespaces.apps])).items as typeof withCri
    expect(hidden.map((p) => p.uid).sort()).toEqual(withCri.map((p) => p.uid).sort())
    expect(withCri.length).toBe(specs.filter((s) => s.namespace === namespaces.apps).length)
    const first = withCri[0]
    const byLabel = (await json(['pods', '-r', node.endpoint, '-l', `io.kubernetes.pod.name=${first.name}`])).items
    expect(byLabel.map((p: {uid: string}) => p.uid)).toEqual([first.uid])
    const notRunning = (await json(['pods', '-r', node.endpoint, '-n', namespaces.apps, '--field-selector', 'status!=Running'])).items
    expect(notRunning.map((p: {uid: string}) => p.uid)).toEqual([node.pods.find((p) => p.containers.length > 1)!.uid])
  })
})

describe('containers', () => {
  it('lists every container the runtime lists, the exited one with its state and exit code', async () => {
    const rows = (await json(['containers', '-r', node.endpoint])).items as Array<{id: string; name: string; state: string; exitCode: number | null; image: string | null; attempt: number | null}>
    const listed = await node.cri.listContainers()
    for (const c of listed.filter((x) => node.pods.some((p) => p.sandboxId === x.podSandboxId))) {
      const row = rows.find((r) => r.id === c.id)
      expect(row, c.id).toBeDefined()
      expect(row!.name).toBe(c.metadata?.name)
      expect(row!.attempt).toBe(c.metadata?.attempt)
      expect(row!.image).toBeTruthy()
      expect(row!.state).toBe(c.state.replace('CONTAINER_', '').toLowerCase())
    }
    const stopped = rows.find((r) => r.id === stoppedId)!
    const status = await node.cri.containerStatus(stoppedId)
    expect(stopped.state).toBe('exited')
    expect(stopped.exitCode).toBe(status.status?.exitCode)
    const exitedOnly = (await json(['containers', '-r', node.endpoint, '--state', 'exited'])).items
    expect(exitedOnly.map((r: {id: string}) => r.id)).toContain(stoppedId)
    const table = await nodedoc(['containers', '-r', node.endpoint, '--state', 'exited'])
    expect(table.stdout).toMatch(new RegExp(`^${stoppedId.slice(0, 13)} .* exited ${status.status?.exitCode} `, 'm'))
    const wide = await nodedoc(['containers', '-r', node.endpoint, '--state', 'exited', '-o', 'wide'])
    expect(wide.stdout).toContain(stoppedId)
    if (status.status?.reason) expect(wide.stdout).toContain(status.status.reason)
  })
})
