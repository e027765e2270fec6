import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {LiveHost} from '../../../src/host/live.js'
import {gatherPodAddresses, gatherPods} from '../../../src/pods/pods.js'
import type {PodReport, ProcessRecord} from '../../../src/pods/types.js'
import type {SvcReport} from '../../../src/svc/correlate.js'
import {type FakePod, createFakePod} from '../../helpers/fake-pod.js'
import {iptablesRestore} from '../../helpers/kube-proxy-rules.js'
import {tempFolder} from '../../helpers/temp-folder.js'
import {itemsOf, withoutCounters} from '../../helpers/volatile.js'

const IS_ROOT = process.getuid?.() === 0
const cli = (args: string[], options: {user?: number} = {}) => {
  const argv = ['bin/run.js', ...args]
  return options.user === undefined
    ? execa('node', argv, {reject: false})
    : execa('setpriv', [`--reuid=${options.user}`, `--regid=${options.user}`, '--clear-groups', 'node', ...argv], {reject: false})
}

// A container runtime answering on this machine (another suite's test node) knows nothing of this
// pod and says so; that finding and its warnings are the CRI suite's subject, not this one's.
const CRI_NOTE = /runtime at unix:|CRI|containerd\.sock|crio\.sock|cri-dockerd/
const hostLines = (stderr: string) => stderr.split('\n').filter((l) => l && !CRI_NOTE.test(l))

/** stdout as JSON; a failure shows what the command said on stderr. */
async function json<T>(args: string[], options: {user?: number} = {}): Promise<T> {
  const result = await cli(args, options)
  try {
    return JSON.parse(result.stdout)
  } catch {
    throw new Error(`nodedoc ${args.join(' ')} exited ${result.exitCode}: ${result.stderr}`)
  }
}

// counters move between two reads; everything else must not
function stable(report: PodReport): PodReport {
  const copy = withoutCounters(report)
  copy.findings = copy.findings.filter((f) => !CRI_NOTE.test(f))
  // the container copied the node's mount table, where other suites' mounts come and go:
  // compare the mounts this pod made
  for (const c of copy.containers) c.mounts = c.mounts.filter((m) => ['/etc/hosts', '/mnt', '/proc'].includes(m.destination))
  return copy
}

describe.skipIf(!IS_ROOT)('a pod laid out on the real kernel as kubelet and CRI-O do', () => {
  let pod: FakePod
  let report: PodReport
  const work = tempFolder('nodedoc-test-')

  beforeAll(async () => {
    pod = await createFakePod()
    const result = await cli(['pod', pod.name, '-n', pod.namespace, '-o', 'json'])
    expect(hostLines(result.stderr)).toEqual([])
    expect(result.exitCode).toBe(0)
    report = JSON.parse(result.stdout)
  })
  afterAll(async () => {
    await pod?.destroy()
  })

  it('names the pod, its QoS, runtime and cgroup layout', () => {
    expect(report).toMatchObject({namespace: pod.namespace, name: pod.name, uid: pod.uid, qosClass: 'Burstable', runtime: 'cri-o', cgroupVersion: 1, cgroupDriver: 'cgroupfs'})
    expect(report.sandbox).toMatchObject({id: pod.sandboxId, pid: pod.sandboxPid})
  })

  it('finds the container, its host PID and PID 1 inside', () => {
    expect(report.containers).toHaveLength(1)
    const [c] = report.containers
    expect(c).toMatchObject({name: pod.container, id: pod.containerId, pid: pod.containerPid, nsPid: 1, state: 'running', command: 'sleep 100000', restartCount: 0})
    expect(c.processes).toEqual([{pid: pod.containerPid, nsPid: 1, state: 'S', zombie: false, command: 'sleep 100000', children: []}])
  })

  it('shows net/ipc/uts shared with the sandbox and pid/mnt its own', () => {
    const [c] = report.containers
    expect(c.namespaceSharing).toMatchObject({net: 'sandbox', ipc: 'sandbox', uts: 'sandbox', pid: 'own', mnt: 'own', user: 'host', cgroup: 'host'})
    expect(c.namespaces.net).toBe(report.sandbox.namespaces.net)
    expect(c.namespaces.pid).not.toBe(report.sandbox.namespaces.pid)
    expect(report).toMatchObject({hostNetwork: false, hostPID: false, hostIPC: false})
  })

  it('resolves bind mounts to their host paths and names the volume', () => {
    const mounts = report.containers[0].mounts
    expect(mounts.find((m) => m.destination === '/etc/hosts')).toMatchObject({source: pod.hostsFile, readOnly: false, volume: null})
    expect(mounts.find((m) => m.destination === '/mnt')).toMatchObject({source: pod.volumeDir, volume: {name: 'cache', plugin: 'kubernetes.io/empty-dir'}})
    expect(mounts.find((m) => m.destination === '/proc')).toMatchObject({fsType: 'proc'})
  })

  it('reads the limits that were written to the cgroups', () => {
    const cg = report.containers[0].cgroup!
    expect(cg.path).toBe(`/kubepods/burstable/pod${pod.uid}/crio-${pod.containerId}`)
    expect(cg).toMatchObject({memoryLimitBytes: pod.memoryLimit, cpuShares: pod.cpuShares, cpuQuotaUs: pod.cpuQuota, cpuPeriodUs: 100000, pidsMax: pod.pidsMax, pidsCurrent: 1, oomKills: 0})
    expect(cg.memoryUsageBytes).toBeGreaterThan(0)
    expect(report.cgroup).toMatchObject({path: `/kubepods/burstable/pod${pod.uid}`, memoryLimitBytes: pod.memoryLimit})
  })

  it('finds the pod IP, the node-side veth and the route', () => {
    expect(report.ips).toEqual([pod.ip])
    expect(report.interfaces).toEqual([{name: 'eth0', ips: [pod.ip]}])
    expect(report.hostVeth?.name).toBe(pod.hostVeth)
    expect(report.hostRoute).toEqual({destination: `${pod.ip}/32`, dev: pod.hostVeth, via: null})
  })

  it('lists the CRI log file and the /var/log/containers link to it', () => {
    expect(report.logs).toEqual([{container: pod.container, path: pod.logFile, sizeBytes: expect.any(Number), restart: 0, links: [pod.logLink]}])
    expect(report.logs[0].sizeBytes).toBeGreaterThan(20)
  })

  it('ps ties each process to its pod and container', async () => {
    const result = await cli(['ps', '-o', 'json'])
    expect(result.exitCode).toBe(0)
    const procs = itemsOf<ProcessRecord>(JSON.parse(result.stdout))
    const ref = {namespace: pod.namespace, name: pod.name, uid: pod.uid}
    expect(procs.find((p) => p.pid === pod.containerPid)).toMatchObject({nsPid: 1, pod: ref, container: {name: pod.container, id: pod.containerId}})
    expect(procs.find((p) => p.pid === pod.sandboxPid)).toMatchObject({nsPid: 1, command: '/pause sleep 100000'.replace('/pause sleep', '/pause'), pod: ref, sandbox: true})
    expect(procs.every((p) => p.pod !== null)).toBe(true)
    const unowned = itemsOf<ProcessRecord>(await json(['ps', '--unowned', '-o', 'json']))
    expect(unowned.some((p) => p.pid === process.pid)).toBe(true)
    expect(unowned.some((p) => p.pid === pod.containerPid)).toBe(false)
  })

  it('svc ties an endpoint at the pod IP to the pod, its veth read as pod reads it', async () => {
    const rules = join(work, 'rules.txt')
    writeFileSync(rules, iptablesRestore([{namespace: pod.namespace, name: 'to-fake', portName: 'http', protocol: 'tcp', clusterIP: '10.96.0.10', port: 80, endpoints: [{ip: pod.ip, port: 8080}]}], '10.0.0.0/8'))
    const svc = await json<SvcReport>(['svc', 'to-fake', '-n', pod.namespace, '--iptables-save', rules, '--live-routes', '-o', 'json'])
    expect(svc.services[0].endpoints).toMatchObject([{ip: pod.ip, location: 'local', pod: {namespace: pod.namespace, name: pod.name, uid: pod.uid}, route: {dev: pod.hostVeth}, problems: []}])
    // what svc reads of the pods (identity, addresses, veth), beside the full inspection; other
    // suites' pods may come and go meanwhile: this pod's
    const mine = <T extends {uid: string}>(pods: T[]) => pods.filter((p) => p.uid === pod.uid)
    const [light, full] = await Promise.all([gatherPodAddresses(new LiveHost()), gatherPods(new LiveHost())])
    expect(mine(light)).toEqual(mine(full).map((p) => ({namespace: p.namespace, name: p.name, uid: p.uid, ips: p.ips, hostVeth: p.hostVeth})))
    expect(mine(light)[0]).toMatchObject({ips: [pod.ip], hostVeth: {name: pod.hostVeth}})
  })

  it('a snapshot, folder or archive, gives the same answer with --from', async () => {
    const dir = join(work, 'snap')
    const archive = join(work, 'snap.tar.gz')
    // read live right before the snapshot: other suites on this machine may change the mount table
    const live: PodReport = JSON.parse((await cli(['pod', pod.name, '-n', pod.namespace, '-o', 'json'])).stdout)
    expect((await cli(['snapshot', '-o', dir])).exitCode).toBe(0)
    expect((await cli(['snapshot', '-o', archive])).exitCode).toBe(0)
    const fromDir = await cli(['pod', pod.name, '-n', pod.namespace, '-o', 'json', '--from', dir])
    const fromArchive = await cli(['pod', pod.name, '-n', pod.namespace, '-o', 'json', '--from', archive])
    expect(hostLines(fromDir.stderr)).toEqual([])
    expect(stable(JSON.parse(fromDir.stdout))).toEqual(stable(live))
    // two captures a moment apart: live counters (memory in use, ...) may move between them
    expect(stable(JSON.parse(fromArchive.stdout))).toEqual(stable(JSON.parse(fromDir.stdout)))
    // other suites' pods may come and go meanwhile: compare this pod's processes
    const mine = (procs: ProcessRecord[]) => procs.filter((p) => p.pod?.uid === pod.uid)
    const psSnap = mine(itemsOf<ProcessRecord>(await json(['ps', '-o', 'json', '--from', dir])))
    expect(psSnap.map((p) => p.pid).sort()).toEqual([pod.sandboxPid, pod.containerPid].sort())
    expect(psSnap).toEqual(mine(itemsOf<ProcessRecord>(await json(['ps', '-o', 'json', '--from', archive]))))
  })

  it('as nobody: a partial answer and one warning that root is needed', async () => {
    const result = await cli(['pod', pod.name, '-n', pod.namespace, '-o', 'json'], {user: 65534})
    expect(result.exitCode).toBe(0)
    expect(hostLines(result.stderr)).toEqual([expect.stringMatching(/^warning: permission denied; run as root for a full answer \(\d+ paths, e.g. \/\S+\)$/)])
    const partial: PodReport = JSON.parse(result.stdout)
    expect(partial.uid).toBe(pod.uid)
    expect(partial.containers[0].namespaces).toEqual({})
  })

  it('a missing pod: one line, the pods this node has, exit 1', async () => {
    const result = await cli(['pod', 'no-such-pod'])
    expect(result.exitCode).toBe(1)
    expect(result.stderr.split('\n')[0]).toBe('error: pod no-such-pod not found on this node')
    expect(result.stderr).toContain(pod.name)
    expect(result.stderr).not.toMatch(/at .*\.js:\d+/)
  })
})
