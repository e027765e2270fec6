// Teardown is part of the product: a failure while pods are being made, or a runtime that died
// mid-run, must still leave this shared machine as it was.
import {randomBytes} from 'node:crypto'
import {spawn} from 'node:child_process'
import {access, writeFile} from 'node:fs/promises'
import {describe, expect, it} from 'vitest'
import {podCatalogue} from './node/catalogue.js'
import {alive} from './node/containerd.js'
import {NODE_DIR, NODE_LOCK} from './node/layout.js'
import {NodeUpError, leftovers, nodeDown, nodeUp} from './node/node.js'
import {loadState} from './node/state.js'

const suffix = randomBytes(3).toString('hex')
const namespaces = {apps: `e2e-${suffix}`, system: `e2e-${suffix}-system`}

const exists = (path: string) => access(path).then(() => true, () => false)

describe('test node teardown', () => {
  it('undoes a half-made node when pod creation fails midway', async () => {
    const [plain, duo] = podCatalogue(namespaces).filter((s) => s.name === 'core-k8s' || s.name === 'core-k8s-duo')
    // the second container names a volume the pod does not have: it fails after the sandbox,
    // the first container, its log link and the projected token mount exist
    const broken = {...duo, containers: [duo.containers[0], {...duo.containers[1], volumeMounts: [{name: 'missing', mountPath: '/x'}]}]}
    const error = await nodeUp(namespaces, [plain, broken]).then(() => undefined, (e: unknown) => e)
    expect(error).toBeInstanceOf(NodeUpError)
    const failure = error as NodeUpError
    expect(failure.cause).toMatch(/no volume missing/)
    expect(failure.left).toEqual([])
    expect(failure.state.pods.map((p) => p.name)).toEqual(['core-k8s', 'core-k8s-duo'])
    expect(failure.state.pods[1].sandboxId).toMatch(/^[0-9a-f]{64}$/)
    expect(failure.state.pods[1].containers[0].id).toMatch(/^[0-9a-f]{64}$/)
    expect(await leftovers(failure.state)).toEqual([])
    expect(await loadState()).toBeUndefined()
  })

  it('cleans up after containerd died under running pods', async () => {
    const specs = podCatalogue(namespaces).filter((s) => s.name === 'core-k8s-greedy')
    const node = await nodeUp(namespaces, specs)
    node.cri.close()
    const state = structuredClone(node.state)
    try {
      process.kill(state.containerdPid!, 'SIGKILL')
      while (alive(state.containerdPid!)) await new Promise((r) => setTimeout(r, 20))
      expect(await leftovers(state)).not.toEqual([])
    } finally {
      // as `npm run node:down` would, from the state file alone
      expect(await nodeDown()).toEqual([])
    }
    expect(await leftovers(state)).toEqual([])
    expect(await exists(NODE_DIR)).toBe(false)
  })

  it('leaves a node alone while another live process uses it, and takes over a stale lock', async () => {
    const user = spawn('sleep', ['30'])
    try {
      await writeFile(NODE_LOCK, `${user.pid}\n`, {flag: 'wx'})
      await expect(nodeDown()).rejects.toThrow(`in use by PID ${user.pid}`)
      expect(await exists(NODE_LOCK)).toBe(true)
    } finally {
      user.kill('SIGKILL')
    }
    while (alive(user.pid!)) await new Promise((r) => setTimeout(r, 20))
    expect(await nodeDown()).toEqual([])
    expect(await exists(NODE_LOCK)).toBe(false)
  })
})
