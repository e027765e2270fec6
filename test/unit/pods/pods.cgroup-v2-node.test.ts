// A node this machine cannot be (cgroup v2 only, systemd driver, CRI-O, kind's kubelet.slice
// nesting), captured by hand in the snapshot layout of docs/snapshot.md, read by the same code.
import {mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {SnapshotHost} from '../../../src/host/snapshot.js'
import {findPod} from '../../../src/pods/pods.js'
import {gatherProcesses} from '../../../src/pods/processes.js'

const UID = '3f9c2a71-5b8e-4d0a-9c1e-7a6b5d4c3b2a'
const SLICE = UID.replace(/-/g, '_')
const CTR = 'c'.repeat(64)
const SANDBOX = 'a'.repeat(64)
const POD_CG = `/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/kubelet-kubepods-burstable-pod${SLICE}.slice`
const NS = ['net', 'pid', 'ipc', 'uts', 'mnt', 'cgroup', 'user', 'time']

let root: string
const put = (path: string, text: string) => {
  const file = join(root, 'fs', path)
  mkdirSync(dirname(file), {recursive: true})
  writeFileSync(file, text)
}
const link = (path: string, target: string) => {
  const file = join(root, 'fs', path)
  mkdirSync(dirname(file), {recursive: true})
  symlinkSync(target, file)
}
function proc(pid: number, ppid: number, comm: string, argv: string[], cgroup: string, nsPid: number, ns: Record<string, number>) {
  put(`/proc/${pid}/stat`, `${pid} (${comm}) S ${ppid} ${pid} ${pid} 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 5000 0 0\n`)
  put(`/proc/${pid}/status`, `Name:\t${comm}\nState:\tS (sleeping)\nPPid:\t${ppid}\nNSpid:\t${pid}\t${nsPid}\n`)
  put(`/proc/${pid}/cmdline`, argv.join('\0') + '\0')
  put(`/proc/${pid}/cgroup`, `0::${cgroup}\n`)
  for (const t of NS) link(`/proc/${pid}/ns/${t}`, `${t}:[${ns[t]}]`)
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'nodedoc-v2-'))
  writeFileSync(join(root, 'meta.json'), '{"format": 1}')
  const host = Object.fromEntries(NS.map((t, i) => [t, 4026531830 + i]))
  const pod = {...host, net: 4026532600, ipc: 4026532601, uts: 4026532602}
  put('/proc/2/status', 'Name:\tkthreadd\nState:\tS (sleeping)\nPPid:\t0\n')
  for (const t of NS) link(`/proc/2/ns/${t}`, `${t}:[${host[t]}]`)
  put('/proc/1/mountinfo', '20 1 8:1 / / rw - ext4 /dev/vda1 rw\n30 20 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n')
  proc(700, 1, 'pause', ['/pause'], `${POD_CG}/crio-${SANDBOX}.scope`, 1, {...pod, pid: 4026532610, mnt: 4026532611})
  proc(720, 1, 'nginx', ['nginx', '-g', 'daemon off;'], `${POD_CG}/crio-${CTR}.scope`, 1, {...pod, pid: 4026532620, mnt: 4026532621})
  proc(721, 720, 'nginx', ['nginx: worker process'], `${POD_CG}/crio-${CTR}.scope`, 7, {...pod, pid: 4026532620, mnt: 4026532621})
  // conmon sits in its own scope: not a container process
  proc(719, 1, 'conmon', ['/usr/bin/conmon', '-c', CTR], `${POD_CG}/crio-conmon-${CTR}.scope`, 719, host)
  const cg = (path: string, files: Record<string, string>) => {
    for (const [f, v] of Object.entries(files)) put(`/sys/fs/cgroup${path}/${f}`, v)
  }
  cg(POD_CG, {'memory.max': '268435456\n', 'memory.current': '7340032\n', 'memory.peak': '9437184\n', 'memory.events': 'low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n', 'cpu.weight': '10\n', 'cpu.max': 'max 100000\n', 'cpu.stat': 'usage_usec 1\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n', 'pids.current': '3\n', 'pids.max': 'max\n', 'cgroup.procs': ''})
  cg(`${POD_CG}/crio-${CTR}.scope`, {'memory.max': '268435456\n', 'memory.current': '6291456\n', 'memory.events': 'oom_kill 1\n', 'cpu.weight': '10\n', 'cpu.max': '50000 100000\n', 'cpu.stat': 'nr_throttled 12\nthrottled_usec 34567\n', 'pids.current': '2\n', 'pids.max': '1024\n', 'cgroup.procs': '720\n721\n'})
  cg(`${POD_CG}/crio-${SANDBOX}.scope`, {'cgroup.procs': '700\n'})
  cg(`${POD_CG}/crio-conmon-${CTR}.scope`, {'cgroup.procs': '719\n'})
  const annotations = (type: string, name: string) => ({'io.kubernetes.cri-o.ContainerType': type, 'io.kubernetes.cri-o.SandboxID': SANDBOX, 'io.kubernetes.pod.name': 'web', 'io.kubernetes.pod.namespace': 'shop', 'io.kubernetes.pod.uid': UID, 'io.kubernetes.container.name': name})
  put(`/run/containers/storage/overlay-containers/${SANDBOX}/userdata/config.json`, JSON.stringify({annotations: annotations('sandbox', 'POD')}))
  put(`/run/containers/storage/overlay-containers/${CTR}/userdata/config.json`, JSON.stringify({annotations: annotations('container', 'nginx')}))
  put(`/var/log/pods/shop_web_${UID}/nginx/2.log`, '2026-11-26T00:00:00.000000000-04:00 stdout F ready\n')
})
afterAll(() => rmSync(root, {recursive: true, force: true}))

describe('a cgroup v2, systemd-driver, CRI-O node nested the way kind nests it', () => {
  it('names the pod, its QoS class, driver and runtime from the slice names', async () => {
    const lookup = await findPod(await SnapshotHost.open(root), {name: 'web', namespace: 'shop'})
    expect(lookup.kind).toBe('found')
    if (lookup.kind !== 'found') return
    const r = lookup.report
    expect(r).toMatchObject({namespace: 'shop', name: 'web', uid: UID, qosClass: 'Burstable', runtime: 'cri-o', cgroupVersion: 2, cgroupDriver: 'systemd'})
    expect(r.sandbox).toMatchObject({id: SANDBOX, pid: 700})
    expect(r.containers.map((c) => [c.name, c.pid, c.nsPid, c.restartCount])).toEqual([['nginx', 720, 1, 2]])
    expect(r.containers[0].processes[0].children.map((p) => p.pid)).toEqual([721])
  })

  it('reads v2 limits, usage and OOM kills', async () => {
    const lookup = await findPod(await SnapshotHost.open(root), {uid: UID})
    if (lookup.kind !== 'found') throw new Error(lookup.kind)
    expect(lookup.report.cgroup).toEqual({
      path: POD_CG, memoryLimitBytes: 268435456, memoryUsageBytes: 7340032, memoryPeakBytes: 9437184, oomKills: 1,
      cpuShares: null, cpuWeight: 10, cpuQuotaUs: null, cpuPeriodUs: 100000, throttledPeriods: 0, throttledUs: 0, pidsCurrent: 3, pidsMax: null,
    })
    expect(lookup.report.containers[0].cgroup).toMatchObject({path: `${POD_CG}/crio-${CTR}.scope`, cpuQuotaUs: 50000, cpuPeriodUs: 100000, throttledPeriods: 12, throttledUs: 34567, pidsMax: 1024, memoryPeakBytes: null})
  })

  it('ps keeps conmon out of the pod and the worker in its container', async () => {
    const procs = await gatherProcesses(await SnapshotHost.open(root))
    expect(procs.find((p) => p.pid === 719)?.pod).toBeNull()
    expect(procs.find((p) => p.pid === 721)).toMatchObject({nsPid: 7, container: {name: 'nginx', id: CTR}})
    expect(procs.find((p) => p.pid === 700)).toMatchObject({sandbox: true, container: {name: 'POD'}})
  })
})
