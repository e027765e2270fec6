// nodedoc against pods containerd really made: `pod` and `ps` must agree with what the runtime
// reports through CRI and with the limits asked for, and keep the same identity with the CRI
// socket hidden.
import {randomBytes} from 'node:crypto'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {readCriView} from '../../src/cri/gather.js'
import type {CriView} from '../../src/cri/view.js'
import type {PodReport, ProcessRecord} from '../../src/pods/types.js'
import {podCatalogue} from './node/catalogue.js'
import {REPO, nodedoc, nodedocJson} from './node/cli.js'
import {type TestNode, nodeDown, nodeUp} from './node/node.js'
import {containerResources, podCgroupValues} from './node/resources.js'

const suffix = randomBytes(3).toString('hex')
const namespaces = {apps: `e2e-${suffix}`, system: `e2e-${suffix}-system`}
const specs = podCatalogue(namespaces)
const HIDDEN = `unix:///run/nodedoc-hidden-${suffix}.sock`
let node: TestNode
let view: CriView
let nodeMemory: number
const withCri = new Map<string, PodReport>()
const withoutCri = new Map<string, PodReport>()
let hiddenWarning = ''

beforeAll(async () => {
  node = await nodeUp(namespaces, specs)
  view = await readCriView(node.cri)
  nodeMemory = Number(/MemTotal:\s+(\d+)/.exec(await readFile('/proc/meminfo', 'utf8'))![1]) * 1024
  await Promise.all(node.pods.map(async (pod) => {
    withCri.set(pod.name, await nodedocJson<PodReport>(['pod', pod.name, '-n', pod.namespace, '-r', node.endpoint]))
    const hidden = await nodedoc(['pod', pod.name, '-n', pod.namespace, '-r', HIDDEN, '-o', 'json'])
    expect(hidden.exitCode, hidden.stderr).toBe(0)
    withoutCri.set(pod.name, JSON.parse(hidden.stdout))
    hiddenWarning = hidden.stderr
  }))
})

afterAll(async () => {
  node?.cri.close()
  expect(await nodeDown()).toEqual([])
})

function identity(report: PodReport) {
  return {
    namespace: report.namespace,
    name: report.name,
    uid: report.uid,
    sandbox: {id: report.sandbox.id, pid: report.sandbox.pid},
    containers: report.containers.map((c) => ({name: c.name, id: c.id, pid: c.pid})).sort((a, b) => a.id.localeCompare(b.id)),
    ips: report.ips,
    hostNetwork: report.hostNetwork,
  }
}

describe.each(specs.map((s, i) => [s.name, i] as const))('nodedoc pod %s', (name, index) => {
  const pod = () => node.pods[index]
  const report = () => withCri.get(name)!
  const sandbox = () => view.sandboxes.find((s) => s.id === pod().sandboxId)!
  const criContainers = () => view.containers.filter((c) => c.sandboxId === pod().sandboxId)

  it('names the pod, its UID and QoS class as created', () => {
    expect(report()).toMatchObject({namespace: pod().namespace, name, uid: pod().uid, qosClass: pod().qos, runtime: 'containerd', cgroupVersion: 1, cgroupDriver: 'cgroupfs'})
  })

  it('finds the sandbox and its pause PID that CRI reports', () => {
    expect(report().sandbox.id).toBe(sandbox().id)
    expect(report().sandbox.pid).toBe(sandbox().pid)
  })

  it('lists the containers with the IDs and PIDs of CRI verbose status', () => {
    const expected = criContainers().map((c) => ({name: c.name, id: c.id, pid: c.pid, state: 'running'})).sort((a, b) => a.id.localeCompare(b.id))
    const got = report().containers.map((c) => ({name: c.name, id: c.id, pid: c.pid, state: c.state})).sort((a, b) => a.id.localeCompare(b.id))
    expect(got).toEqual(expected)
    expect(got.length).toBe(specs[index].containers.length)
  })

  it('shows the pod IPs CRI reports, or host networking', () => {
    expect(report().hostNetwork).toBe(pod().hostNetwork)
    expect(report().ips).toEqual(sandbox().ips)
    if (!pod().hostNetwork) {
      expect(report().ips).toEqual([pod().ip])
      expect(report().hostVeth?.name).toMatch(/^veth/)
    }
  })

  it('finds the log file CRI writes to, and its /var/log/containers link', () => {
    for (const c of criContainers()) {
      const log = report().logs.find((l) => l.path === c.logPath)
      expect(log, `${c.name}: ${c.logPath}`).toBeDefined()
      expect(log!.container).toBe(c.name)
      expect(log!.links).toEqual(pod().logLinks.filter((l) => l.endsWith(`-${c.id}.log`)))
    }
  })

  it('reads the cgroup limits the kubelet asked for', () => {
    for (const [j, cs] of specs[index].containers.entries()) {
      const asked = containerResources(cs.resources ?? {}, pod().qos, nodeMemory)
      const c = report().containers.find((k) => k.name === cs.name)!
      expect(c.cgroup?.path).toBe(`${pod().cgroupParent}/${pod().containers[j].id}`)
      expect(c.cgroup?.memoryLimitBytes ?? 0).toBe(asked.memoryLimitInBytes)
      expect(c.cgroup?.cpuShares).toBe(asked.cpuShares)
      expect(c.cgroup?.cpuQuotaUs ?? 0).toBe(asked.cpuQuota)
      if (asked.cpuQuota) expect(c.cgroup?.cpuPeriodUs).toBe(100_000)
    }
    const podValues = podCgroupValues(specs[index].containers.map((c) => c.resources ?? {}), pod().qos)
    expect(report().cgroup?.path).toBe(pod().cgroupParent)
    expect(report().cgroup?.cpuShares).toBe(podValues['cpu.shares'])
    expect(report().cgroup?.memoryLimitBytes ?? -1).toBe(podValues['memory.limit_in_bytes'])
  })

  it('finds no disagreement with the runtime', () => {
    expect(report().findings.filter((f) => /runtime/.test(f))).toEqual([])
  })

  it('keeps the same identity with the CRI socket hidden', () => {
    expect(identity(withoutCri.get(name)!)).toEqual(identity(report()))
    expect(hiddenWarning).toMatch(/no socket .*using host files only/)
  })
})

describe('nodedoc ps', () => {
  it('ties every pause and container PID CRI reports to its pod and container', async () => {
    const procs = (await nodedocJson<{items: ProcessRecord[]}>(['ps', '-r', node.endpoint])).items
    const byPid = new Map(procs.map((p) => [p.pid, p]))
    for (const pod of node.pods) {
      const sandbox = view.sandboxes.find((s) => s.id === pod.sandboxId)!
      expect(byPid.get(sandbox.pid!)).toMatchObject({pod: {uid: pod.uid, name: pod.name, namespace: pod.namespace}, container: {id: sandbox.id}, sandbox: true})
      for (const c of view.containers.filter((k) => k.sandboxId === pod.sandboxId)) {
        expect(byPid.get(c.pid!), `${pod.name}/${c.name}`).toMatchObject({pod: {uid: pod.uid, name: pod.name}, container: {id: c.id, name: c.name}})
      }
    }
  })

  it('gives the same owners with the CRI socket hidden', async () => {
    const owners = (procs: ProcessRecord[]) => new Map(procs.filter((p) => node.pods.some((pod) => pod.uid === p.pod?.uid)).map((p) => [p.pid, {pod: p.pod, container: p.container}]))
    const [a, b] = (await Promise.all([nodedocJson<{items: ProcessRecord[]}>(['ps', '-r', node.endpoint]), nodedocJson<{items: ProcessRecord[]}>(['ps', '-r', HIDDEN])])).map((d) => d.items)
    const [withSocket, hidden] = [owners(a), owners(b)]
    // processes may come and go between the two scans: compare the PIDs both saw
    const both = [...withSocket.keys()].filter((pid) => hidden.has(pid))
    for (const pid of both) expect(hidden.get(pid), `PID ${pid}`).toEqual(withSocket.get(pid))
    const stable = [...view.sandboxes.map((s) => s.pid!), ...view.containers.map((c) => c.pid!)]
    for (const pid of stable) expect(both).toContain(pid)
  })
})

/** An RFC 3339 time with up to nanoseconds, as containerd writes it, in ns since the epoch. */
function unixNano(time: string): bigint {
  const m = /^(.*?)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(time)!
  return BigInt(Date.parse(m[1] + m[3])) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'))
}

describe('nodedoc logs', () => {
  it('reads the file CRI writes for each container, stdout and stderr apart', async () => {
    const duo = node.pods.find((p) => p.name === 'core-k8s-duo')!
    const writer = view.containers.find((c) => c.sandboxId === duo.sandboxId && c.name === 'writer')!
    type Logs = {pod: {uid: string}; container: string; files: string[]; entries: Array<{stream: string; text: string; incomplete: boolean}>}
    let logs = await nodedocJson<Logs>(['logs', duo.name, '-n', duo.namespace, '-c', 'writer'])
    for (let i = 0; i < 30 && logs.entries.length < 6; i++) {
      await new Promise((r) => setTimeout(r, 100))
      logs = await nodedocJson<Logs>(['logs', duo.name, '-n', duo.namespace, '-c', 'writer'])
    }
    expect(logs.pod.uid).toBe(duo.uid)
    expect(logs.files).toEqual([writer.logPath])
    const lines = (await readFile(writer.logPath!, 'utf8')).trim().split('\n').map((l) => l.split(' '))
    // merged by the runtime's timestamps, equal times in file order (docs/logs.md): stdout and
    // stderr are two pipes, so the file itself need not be in time order
    const byTime = lines.map((f, i) => [unixNano(f[0]), i, f] as const).sort(([a, i], [b, j]) => (a < b ? -1 : a > b ? 1 : i - j)).map(([, , f]) => f)
    expect(logs.entries.map((e) => [e.stream, e.text, e.incomplete])).toEqual(byTime.map((f) => [f[1], f.slice(3).join(' '), false]))
    expect(logs.entries.filter((e) => e.stream === 'stderr').map((e) => e.text)).toEqual(['warn 1', 'warn 2', 'warn 3'])
  })
})

describe('nodedoc net', () => {
  it("puts each pod's veth on cni0, with the netns and IP CRI reports", async () => {
    type Net = {
      bridges: Array<{name: string; ports: Array<{name: string; peerNetns: string | null; pods: Array<{uid: string; ip: string | null}>}>}>
      cni: {inUse: {name: string; bridge: string; subnets: string[]} | null}
      podIpsWithoutRoute: unknown[]
    }
    const net = await nodedocJson<Net>(['net'])
    expect(net.cni.inUse).toMatchObject({name: 'nodedoc-e2e', bridge: 'cni0', subnets: ['10.88.0.0/16']})
    const ports = net.bridges.find((b) => b.name === 'cni0')!.ports
    for (const pod of node.pods.filter((p) => !p.hostNetwork)) {
      const sandbox = view.sandboxes.find((s) => s.id === pod.sandboxId)!
      const port = ports.find((p) => p.pods.some((q) => q.uid === pod.uid))
      expect(port, pod.name).toBeDefined()
      expect(port!.name).toMatch(/^veth[0-9a-f]{8}$/)
      expect(port!.peerNetns).toBe(sandbox.netnsPath!.split('/').at(-1))
      expect(port!.pods).toEqual([expect.objectContaining({uid: pod.uid, ip: sandbox.ips[0]})])
    }
    expect(ports.filter((p) => p.pods.some((q) => node.pods.some((pod) => pod.uid === q.uid)))).toHaveLength(4)
  })
})

describe('-r/--runtime-endpoint', () => {
  it('refuses a network endpoint before doing any work', async () => {
    const result = await nodedoc(['pod', 'core-k8s', '-n', namespaces.apps, '-r', 'tcp://127.0.0.1:1'])
    expect(result.exitCode).not.toBe(0)
    expect(result.stderr).toMatch(/runtime endpoint "tcp:\/\/127.0.0.1:1": only unix sockets are supported/)
    expect(result.stdout).toBe('')
  })

  it('finds containerd on its own, as crictl does, when no endpoint is given', async () => {
    const auto = await nodedoc(['pod', 'core-k8s', '-n', namespaces.apps, '-o', 'json'])
    expect(auto.stderr).not.toMatch(/runtime endpoint|using host files only/)
    expect(identity(JSON.parse(auto.stdout))).toEqual(identity(withCri.get('core-k8s')!))
  })

  it('reads CONTAINER_RUNTIME_ENDPOINT like crictl', async () => {
    const result = await execa('node', [join(REPO, 'bin/run.js'), 'pod', 'core-k8s', '-n', namespaces.apps, '-o', 'json'], {
      reject: false, env: {NO_COLOR: '1', CONTAINER_RUNTIME_ENDPOINT: HIDDEN},
    })
    expect(result.exitCode).toBe(0)
    expect(String(result.stderr)).toContain(`runtime endpoint ${HIDDEN}: no socket`)
  })
})
