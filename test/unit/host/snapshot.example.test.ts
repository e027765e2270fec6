// examples/containerd-node is `nodedoc snapshot` of the test node (npm run node:snapshot);
// containerd-node.live.json holds what `pod` and `ps` answered on the live node, with the CRI
// socket, a moment before. Read back with no machine behind it, the snapshot must give the
// same answers, on any machine, with no root.
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {SnapshotHost} from '../../../src/host/snapshot.js'
import {findPod} from '../../../src/pods/pods.js'
import {gatherProcesses} from '../../../src/pods/processes.js'
import {gatherNetFacts} from '../../../src/net/gather.js'
import {buildNetMap} from '../../../src/net/net-map.js'
import type {ContainerReport, PodReport, ProcessRecord} from '../../../src/pods/types.js'
import {REPO} from '../../e2e/node/cli.js'

const EXAMPLE = join(REPO, 'examples/containerd-node')
const live = JSON.parse(readFileSync(join(REPO, 'examples/containerd-node.live.json'), 'utf8')) as {pods: Record<string, PodReport>; ps: ProcessRecord[]; net: {bridges: unknown; cni: unknown; devices: unknown}}

function limits(c: PodReport['cgroup']) {
  return c && {path: c.path, memoryLimitBytes: c.memoryLimitBytes, cpuShares: c.cpuShares, cpuQuotaUs: c.cpuQuotaUs, cpuPeriodUs: c.cpuPeriodUs, pidsMax: c.pidsMax}
}

function container(c: ContainerReport) {
  return {
    name: c.name, id: c.id, state: c.state, pid: c.pid, nsPid: c.nsPid, command: c.command, restartCount: c.restartCount,
    namespaces: c.namespaces, namespaceSharing: c.namespaceSharing, mounts: c.mounts, cgroup: limits(c.cgroup),
  }
}

/** Everything but usage counters and log sizes, which a live node moves on. */
function answer(r: PodReport) {
  return {
    namespace: r.namespace, name: r.name, uid: r.uid, qosClass: r.qosClass, runtime: r.runtime, cgroupVersion: r.cgroupVersion, cgroupDriver: r.cgroupDriver,
    sandbox: r.sandbox, cgroup: limits(r.cgroup), containers: r.containers.map(container),
    hostNetwork: r.hostNetwork, hostPID: r.hostPID, hostIPC: r.hostIPC, ips: r.ips, interfaces: r.interfaces, hostVeth: r.hostVeth, hostRoute: r.hostRoute,
    logs: r.logs.map((l) => ({container: l.container, path: l.path, restart: l.restart, links: l.links})),
    findings: r.findings,
  }
}

describe('the bundled example snapshot', () => {
  it('holds the five pods of the test node', () => {
    expect(Object.keys(live.pods).sort()).toEqual(['default/core-k8s', 'default/core-k8s-duo', 'default/core-k8s-greedy', 'default/core-k8s-guaranteed', 'kube-system/core-k8s-hostnet'])
  })

  it.each(Object.keys(live.pods))('answers `pod %s` as the live node did', async (key) => {
    const [namespace, name] = key.split('/')
    const host = await SnapshotHost.open(EXAMPLE)
    const lookup = await findPod(host, {name, namespace})
    expect(lookup.kind).toBe('found')
    if (lookup.kind !== 'found') return
    expect(answer(lookup.report)).toEqual(answer(live.pods[key]))
  })

  it('answers `ps` for the pods as the live node did', async () => {
    const host = await SnapshotHost.open(EXAMPLE)
    const owners = (procs: ProcessRecord[]) => procs.filter((p) => p.pod).map((p) => ({pid: p.pid, pod: p.pod, container: p.container, sandbox: p.sandbox ?? false, command: p.command})).sort((a, b) => a.pid - b.pid)
    expect(owners(await gatherProcesses(host))).toEqual(owners(live.ps))
  })

  it('answers `net` (bridge, veths, CNI config) as the live node did', async () => {
    const host = await SnapshotHost.open(EXAMPLE)
    const net = buildNetMap(await gatherNetFacts(host)) as unknown as typeof live.net
    expect(net.bridges).toEqual(live.net.bridges)
    expect(net.cni).toEqual(live.net.cni)
    expect(net.devices).toEqual(live.net.devices)
  })
})
