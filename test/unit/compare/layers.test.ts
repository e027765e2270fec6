// The spec layer from manifests, the kernel and runtime layers from real readings of a pod
// containerd made (test/fixtures/compare, captured on the test node).
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {kernelMounts, networkShape, parseProcStatus, readSandboxState, runtimeLayer} from '../../../src/compare/gather.js'
import {SERVICE_ACCOUNT_MOUNT} from '../../../src/compare/kubelet-rules.js'
import {CONTAINERD_CAPABILITIES} from '../../../src/compare/runtime-defaults.js'
import {type NodeFacts, specLayer} from '../../../src/compare/spec.js'
import {LiveHost} from '../../../src/host/live.js'
import type {PodReport} from '../../../src/pods/types.js'
import {isReadOnly, parseMountinfo} from '../../../src/parse/mountinfo.js'
import {parseRuntimeConfig} from '../../../src/parse/oci-config.js'
import {parsePodManifest} from '../../../src/sandbox/manifest.js'
import {tempFolder} from '../../helpers/temp-folder.js'

const fixture = (name: string) => readFileSync(join(__dirname, '../../fixtures/compare', name), 'utf8')
const sandboxFixture = (name: string) => parsePodManifest(readFileSync(join(__dirname, '../../fixtures/sandbox', name), 'utf8'), name, {anyVolume: true})
const mounts = (text: string) => parseMountinfo(text).mounts.map((m) => ({destination: m.mountPoint, fsType: m.fsType, readOnly: isReadOnly(m)}))

const NODE: NodeFacts = {
  nodeMemoryBytes: 24684096 * 1024,
  runtime: 'containerd',
  oomFloor: null,
  seccompDefault: {value: false, why: 'the kubelet runs without --seccomp-default'},
  network: {value: 'bridge cni0', why: 'CNI config 10-bridge.conflist (bridge, host-local)'},
  allCapabilities: [...CONTAINERD_CAPABILITIES, 'sys_admin', 'net_admin', 'sys_resource'],
}

describe('parseProcStatus', () => {
  it('reads the capability, no_new_privs, seccomp and effective uid fields', () => {
    const text = 'Name:\tsleep\nUid:\t0\t1000\t0\t0\nCapInh:\t0000000000000000\nCapEff:\t00000000a80425fb\nCapBnd:\t000001ffffffffff\nNoNewPrivs:\t1\nSeccomp:\t2\n'
    expect(parseProcStatus(text)).toEqual({capEff: '00000000a80425fb', capBnd: '000001ffffffffff', noNewPrivs: '1', seccomp: '2', uid: '1000'})
  })
})

describe('kernelMounts on a real runc container', () => {
  const config = parseRuntimeConfig(fixture('containerd-reader.config.json'))
  it('takes the masked and read-only paths out and folds cgroup v1 hierarchies into /sys/fs/cgroup', () => {
    const k = kernelMounts(mounts(fixture('containerd-reader.mountinfo')), config)
    expect(k.mounts).toEqual({
      '/': 'rw', '/proc': 'rw', '/dev': 'rw', '/dev/pts': 'rw', '/dev/mqueue': 'rw', '/sys': 'ro',
      // runc's tmpfs at /sys/fs/cgroup is rw; every hierarchy under it is ro
      '/sys/fs/cgroup': 'ro',
      '/cache': 'ro', '/etc/hosts': 'rw', '/dev/termination-log': 'rw', '/etc/hostname': 'rw', '/etc/resolv.conf': 'rw', '/dev/shm': 'rw',
      [SERVICE_ACCOUNT_MOUNT]: 'ro',
    })
    // this kernel has no /proc/kcore, /proc/asound, ...: runc masks only what exists
    expect([...k.masked].sort()).toEqual(['/proc/acpi', '/proc/keys', '/proc/timer_list', '/sys/firmware'])
    expect([...k.readonly].sort()).toEqual(['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys'])
  })

  it('reads a hostNetwork container the same way', () => {
    const k = kernelMounts(mounts(fixture('containerd-hostnet-agent.mountinfo')), config)
    expect(k.mounts).toMatchObject({'/sys': 'ro', '/sys/fs/cgroup': 'ro', '/etc/hosts': 'rw'})
    expect(k.mounts['/cache']).toBeUndefined()
  })

  it('says rw when a hierarchy under /sys/fs/cgroup is writable', () => {
    const list = mounts(fixture('containerd-reader.mountinfo')).map((m) => (m.destination === '/sys/fs/cgroup/memory' ? {...m, readOnly: false} : m))
    expect(kernelMounts(list, config).mounts['/sys/fs/cgroup']).toBe('rw')
  })
})

describe('runtimeLayer from a real config.json', () => {
  const config = parseRuntimeConfig(fixture('containerd-reader.config.json'))
  const report = {hostNetwork: false, hostIPC: false, hostPID: false} as PodReport
  const facts = {report, containers: [{name: 'reader', report: null as never, status: null, oomScoreAdj: null, config}], hostLinks: [], existingPaths: []}
  it('says what containerd was told, in the spec layer\'s words', () => {
    const layer = runtimeLayer(facts, NODE)!
    expect(layer.containers[0].rows).toEqual({
      'net ns': 'sandbox', 'ipc ns': 'sandbox', 'uts ns': 'sandbox', 'pid ns': 'own', 'mnt ns': 'own',
      command: 'sleep 10000', 'memory limit': 'unlimited', 'cpu.shares': '51', 'cpu quota': 'unlimited', oom_score_adj: '999',
      capabilities: 'default', no_new_privs: '0', seccomp: '0', user: '0', 'masked paths': 'default', 'read-only paths': 'default',
    })
    expect(layer.containers[0].mounts).toMatchObject({'/': 'rw', '/cache': 'ro', '/sys/fs/cgroup': 'ro', '/dev/termination-log': 'rw'})
  })

  it('turns "join the sandbox\'s namespace" into host for a hostNetwork pod', () => {
    const layer = runtimeLayer({...facts, report: {...report, hostNetwork: true}}, NODE)!
    expect(layer.containers[0].rows).toMatchObject({'net ns': 'host', 'uts ns': 'host', 'ipc ns': 'sandbox'})
  })
})

describe('specLayer', () => {
  it('implies the greedy pod: Burstable, kubelet limits, oom_score_adj by request, containerd defaults', () => {
    const layer = specLayer(sandboxFixture('greedy.yaml'), NODE)
    expect(layer.rows).toEqual({qos: 'Burstable', network: 'bridge cni0', 'memory limit': '209715200', 'cpu.shares': '256', 'cpu quota': '50000'})
    expect(layer.containers[0].rows).toMatchObject({
      command: 'sleep 10000', 'memory limit': '209715200', 'cpu.shares': '256', 'cpu quota': '50000', oom_score_adj: '996',
      capabilities: 'default', no_new_privs: '0', seccomp: '0', user: null, 'masked paths': 'default',
    })
    expect(layer.containers[0].mounts).toEqual({
      '/': 'rw', '/proc': 'rw', '/dev': 'rw', '/dev/pts': 'rw', '/dev/mqueue': 'rw', '/dev/shm': 'rw', '/sys': 'ro', '/sys/fs/cgroup': 'ro',
      '/etc/hostname': 'rw', '/etc/resolv.conf': 'rw', '/etc/hosts': 'rw', '/dev/termination-log': 'rw', [SERVICE_ACCOUNT_MOUNT]: 'ro',
    })
    expect(layer.containers[0].optionalMounts).toHaveProperty([SERVICE_ACCOUNT_MOUNT])
  })

  it("takes the image's user from the runtime, and a runtime's oom floor", () => {
    const guaranteed = sandboxFixture('two-containers.yaml')
    const layer = specLayer(guaranteed, {...NODE, oomFloor: {value: 0, why: 'containerd raises it to its own 0'}}, new Map([['writer', 1000]]))
    expect(layer.rows.qos).toBe('Guaranteed')
    expect(layer.containers[0].rows).toMatchObject({oom_score_adj: '0', user: '1000', capabilities: 'none'})
    expect(layer.containers[0].why.oom_score_adj).toBe('the kubelet asks -997 (Guaranteed QoS); containerd raises it to its own 0')
    expect(layer.containers[1].rows).toMatchObject({oom_score_adj: '0', user: null, capabilities: 'default'})
  })

  it('follows privileged, capabilities, seccomp and procMount', () => {
    const p = parsePodManifest(`kind: Pod
metadata: {name: p}
spec:
  hostNetwork: true
  containers:
  - {name: priv, securityContext: {privileged: true}}
  - {name: tight, securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [NET_RAW], add: [SYS_ADMIN]}, seccompProfile: {type: RuntimeDefault}, procMount: Unmasked}}
`, 'p.yaml')
    const [priv, tight] = specLayer(p, NODE).containers
    expect(priv.rows).toMatchObject({capabilities: 'all', seccomp: '0', 'masked paths': 'none', 'net ns': 'host', 'uts ns': 'host'})
    expect(priv.mounts).toMatchObject({'/sys': 'rw', '/sys/fs/cgroup': 'rw'})
    expect(tight.rows).toMatchObject({capabilities: 'default +sys_admin -net_raw', seccomp: '2', no_new_privs: '1', 'masked paths': 'none', 'read-only paths': 'none'})
    expect(tight.mounts).toMatchObject({'/': 'ro', '/etc/hostname': 'ro', '/etc/resolv.conf': 'ro', '/etc/hosts': 'rw'})
  })
})

describe('the network shape', () => {
  const base = {hostNetwork: false, ips: ['10.88.0.5'], hostVeth: {name: 'veth1', ifindex: 7}, hostRoute: {destination: '10.88.0.0/16', dev: 'cni0', via: null}} as unknown as PodReport
  const link = (master: string | null) => [{name: 'veth1', ifindex: 7, iflink: 3, linkNetnsId: 0, kind: 'veth', master, mac: null, state: 'UP'}]
  it('tells a bridge pod, a ptp pod and the host network apart', () => {
    expect(networkShape(base, link('cni0'))).toBe('bridge cni0')
    expect(networkShape({...base, hostRoute: {destination: '10.88.0.5', dev: 'veth1', via: null}} as PodReport, link(null))).toBe('veth /32 route')
    expect(networkShape({...base, hostRoute: null} as PodReport, link(null))).toBe('veth, no route')
    expect(networkShape({...base, hostNetwork: true} as PodReport, [])).toBe('host')
  })
})

describe('readSandboxState through a Host', () => {
  const root = tempFolder('nd-compare-')
  it('reads a sandbox from the host root (a snapshot holds the same path), and says plainly when it is not there', async () => {
    const dir = join(root, 'run/nodedoc/sandboxes/ref')
    mkdirSync(dir, {recursive: true})
    writeFileSync(join(dir, 'state.json'), JSON.stringify({version: 1, name: 'ref', podUid: 'u', steps: [], manifest: sandboxFixture('greedy.yaml')}))
    const host = new LiveHost(root)
    expect((await readSandboxState(host, 'ref')).podUid).toBe('u')
    await expect(readSandboxState(host, 'gone')).rejects.toThrow(`no sandbox named gone on live ${root} (/run/nodedoc/sandboxes/gone/state.json is absent; nodedoc sandbox ls)`)
    await expect(readSandboxState(host, '../../etc')).rejects.toThrow("--with ../../etc: not a sandbox name (lower-case letters, digits and '-')")
    writeFileSync(join(dir, 'state.json'), '{"version": 7}')
    await expect(readSandboxState(host, 'ref')).rejects.toThrow('/run/nodedoc/sandboxes/ref/state.json: not a nodedoc sandbox state file (version 7)')
  })
})
