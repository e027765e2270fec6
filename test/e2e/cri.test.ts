// The test node itself, checked through the CRI client nodedoc ships: containerd answers, the
// pods run with what the kubelet would have asked for, and teardown leaves nothing behind.
import {randomBytes} from 'node:crypto'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {gatherCriView, readCriView} from '../../src/cri/gather.js'
import type {CriView} from '../../src/cri/view.js'
import {connectCri} from '../../src/host/cri-transport.js'
import {Warnings} from '../../src/host/host.js'
import {podCatalogue} from './node/catalogue.js'
import {CGROUP_ROOT} from './node/kubelet.js'
import {BUSYBOX_IMAGE, CONTAINERD_SOCKET, PAUSE_IMAGE} from './node/layout.js'
import {type TestNode, leftovers, nodeDown, nodeUp} from './node/node.js'
import {containerResources, podCgroupValues} from './node/resources.js'
import type {NodeState} from './node/state.js'

const suffix = randomBytes(3).toString('hex')
const namespaces = {apps: `e2e-${suffix}`, system: `e2e-${suffix}-system`}
const specs = podCatalogue(namespaces)
let node: TestNode
let state: NodeState
let view: CriView

beforeAll(async () => {
  node = await nodeUp(namespaces, specs)
  state = structuredClone(node.state)
  view = await readCriView(node.cri)
})

afterAll(async () => {
  node?.cri.close()
  const left = await nodeDown()
  expect(left).toEqual([])
  if (state) expect(await leftovers(state)).toEqual([])
})

async function cgroupFile(controller: string, path: string, file: string): Promise<number> {
  return Number((await readFile(join(CGROUP_ROOT, controller, path, file), 'utf8')).trim())
}

describe('test node through CRI', () => {
  it('answers Version as containerd on runtime.v1', async () => {
    const version = await node.cri.version()
    expect(version.runtimeName).toBe('containerd')
    expect(version.runtimeApiVersion).toBe('v1')
    expect(view.runtime.name).toBe('containerd')
  })

  it('auto-detects the containerd socket like crictl, and gives up cleanly on a missing one', async () => {
    const found = await connectCri({})
    expect(found.client?.endpoint).toBe(`unix://${CONTAINERD_SOCKET}`)
    found.client?.close()
    const missing = await connectCri({endpoint: `unix:///run/nodedoc-no-such-${suffix}.sock`, timeoutMs: 500})
    expect(missing.client).toBeUndefined()
    expect(missing.problems[0]).toMatch(/no socket/)
    const warnings = new Warnings()
    expect(await gatherCriView({endpoint: `/run/nodedoc-no-such-${suffix}.sock`}, warnings)).toBeUndefined()
    expect(warnings.list()[0]).toMatch(/using host files only/)
  })

  it('holds the locally built images', async () => {
    const tags = (await node.cri.listImages()).flatMap((i) => i.repoTags)
    expect(tags).toEqual(expect.arrayContaining([PAUSE_IMAGE, BUSYBOX_IMAGE]))
    expect((await node.cri.imageStatus(BUSYBOX_IMAGE))?.repoTags).toContain(BUSYBOX_IMAGE)
  })

  it('runs every pod of the catalogue with the metadata the kubelet gives', () => {
    for (const pod of state.pods) {
      const sandbox = view.sandboxes.find((s) => s.id === pod.sandboxId)!
      expect(sandbox, pod.name).toBeDefined()
      expect(sandbox).toMatchObject({name: pod.name, namespace: pod.namespace, uid: pod.uid, state: 'ready', hostNetwork: pod.hostNetwork})
      expect(sandbox.logDirectory).toBe(`/var/log/pods/${pod.namespace}_${pod.name}_${pod.uid}`)
      expect(sandbox.cgroupParent).toBe(pod.cgroupParent)
      expect(sandbox.pid).toBeGreaterThan(1)
      if (pod.hostNetwork) expect(sandbox.ips).toEqual([])
      else expect(sandbox.ips).toEqual([pod.ip])
      for (const c of pod.containers) {
        const cri = view.containers.find((k) => k.id === c.id)!
        expect(cri).toMatchObject({name: c.name, sandboxId: pod.sandboxId, state: 'running', logPath: c.logPath, restartCount: 0})
        expect(cri.pod).toEqual({namespace: pod.namespace, name: pod.name, uid: pod.uid})
      }
    }
    expect(state.pods.map((p) => p.qos)).toEqual(['BestEffort', 'Burstable', 'Guaranteed', 'Burstable', 'Burstable'])
  })

  it('gives pod IPs from the private range and a netns per non-host pod', () => {
    const ips = state.pods.filter((p) => !p.hostNetwork).map((p) => p.ip!)
    for (const ip of ips) expect(ip).toMatch(/^10\.88\.\d+\.\d+$/)
    expect(new Set(ips).size).toBe(ips.length)
    for (const pod of state.pods) {
      if (pod.hostNetwork) expect(pod.netnsPath).toBeNull()
      else expect(pod.netnsPath).toMatch(/^\/var\/run\/netns\/cni-/)
    }
  })

  it('reports verbose PIDs that are the pause and container processes on this host', async () => {
    for (const sandbox of view.sandboxes) {
      expect((await readFile(`/proc/${sandbox.pid}/cmdline`, 'utf8')).split('\0')[0]).toBe('/pause')
    }
    for (const c of view.containers) {
      const cgroup = await readFile(`/proc/${c.pid}/cgroup`, 'utf8')
      expect(cgroup).toContain(`:memory:${c.cgroupsPath}`)
      expect(c.cgroupsPath).toBe(`${state.pods.find((p) => p.sandboxId === c.sandboxId)!.cgroupParent}/${c.id}`)
    }
  })

  it('applies the kubelet resource formulas to container and pod cgroups', async () => {
    const memory = Number(/MemTotal:\s+(\d+)/.exec(await readFile('/proc/meminfo', 'utf8'))![1]) * 1024
    for (const [i, spec] of specs.entries()) {
      const pod = state.pods[i]
      for (const [j, cs] of spec.containers.entries()) {
        const asked = containerResources(cs.resources ?? {}, pod.qos, memory)
        const cri = view.containers.find((k) => k.id === pod.containers[j].id)!
        expect(cri.resources?.cpuShares, `${pod.name}/${cs.name}`).toBe(asked.cpuShares)
        expect(cri.resources?.memoryLimitBytes ?? 0).toBe(asked.memoryLimitInBytes)
        expect(cri.resources?.cpuQuotaUs ?? 0).toBe(asked.cpuQuota)
        expect(await cgroupFile('cpu', cri.cgroupsPath!, 'cpu.shares')).toBe(asked.cpuShares)
        expect(await cgroupFile('cpu', cri.cgroupsPath!, 'cpu.cfs_quota_us')).toBe(asked.cpuQuota || -1)
        if (asked.memoryLimitInBytes) expect(await cgroupFile('memory', cri.cgroupsPath!, 'memory.limit_in_bytes')).toBe(asked.memoryLimitInBytes)
      }
      const podValues = podCgroupValues(spec.containers.map((c) => c.resources ?? {}), pod.qos)
      expect(await cgroupFile('cpu', pod.cgroupParent, 'cpu.shares')).toBe(podValues['cpu.shares'])
      expect(await cgroupFile('cpu', pod.cgroupParent, 'cpu.cfs_quota_us')).toBe(podValues['cpu.cfs_quota_us'])
    }
    const greedy = view.containers.find((c) => c.name === 'greedy')!
    expect(greedy.resources?.memoryLimitBytes).toBe(200 * 2 ** 20)
    const guaranteed = view.containers.find((c) => c.name === 'app')!
    expect(guaranteed.resources).toMatchObject({cpuShares: 256, cpuQuotaUs: 25_000, cpuPeriodUs: 100_000, memoryLimitBytes: 64 * 2 ** 20})
  })

  it('writes CRI log lines from stdout and stderr, linked from /var/log/containers', async () => {
    const writer = state.pods.find((p) => p.name === 'core-k8s-duo')!.containers.find((c) => c.name === 'writer')!
    let text = ''
    for (let i = 0; i < 40 && !/stderr F warn/.test(text); i++) {
      text = await readFile(writer.logPath, 'utf8').catch(() => '')
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(text).toMatch(/^\S+Z stdout F tick 1$/m)
    expect(text).toMatch(/^\S+Z stderr F warn 1$/m)
    const link = `/var/log/containers/core-k8s-duo_${namespaces.apps}_writer-${writer.id}.log`
    expect(state.pods.flatMap((p) => p.logLinks)).toContain(link)
    expect(await readFile(link, 'utf8')).toContain('tick 1')
  })

  it('mounts the kubelet volumes into the containers', async () => {
    for (const c of view.containers) {
      const pod = state.pods.find((p) => p.sandboxId === c.sandboxId)!
      const mountinfo = (await readFile(`/proc/${c.pid}/mountinfo`, 'utf8')).split('\n').map((l) => l.split(' '))
      const at = (point: string) => mountinfo.find((f) => f[4] === point)
      expect(at('/var/run/secrets/kubernetes.io/serviceaccount')?.[5], `${pod.name}/${c.name}`).toMatch(/^ro,/)
      const token = at('/var/run/secrets/kubernetes.io/serviceaccount')!
      expect(token[token.indexOf('-') + 1]).toBe('tmpfs')
      expect(at('/etc/hosts')?.[3]).toBe(`/var/lib/kubelet/pods/${pod.uid}/etc-hosts`)
      expect(at('/dev/termination-log')?.[3]).toMatch(new RegExp(`/var/lib/kubelet/pods/${pod.uid}/containers/${c.name}/[0-9a-f]{8}$`))
      if (pod.name === 'core-k8s-duo') {
        expect(at('/cache')?.[3]).toBe(`/var/lib/kubelet/pods/${pod.uid}/volumes/kubernetes.io~empty-dir/cache`)
        expect(at('/cache')?.[5]).toMatch(c.name === 'reader' ? /^ro,/ : /^rw,/)
      }
    }
  })
})
