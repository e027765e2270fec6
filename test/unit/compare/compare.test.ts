import {describe, expect, it} from 'vitest'
import {capabilityMask, capabilityNames} from '../../../src/compare/capabilities.js'
import {networkShape, parseProcStatus} from '../../../src/compare/gather.js'
import {POD_NETWORK, specLayer} from '../../../src/compare/model.js'
import {compareLayers} from '../../../src/compare/rows.js'
import type {PodReport} from '../../../src/pods/types.js'
import {DEFAULT_CAPABILITIES} from '../../../src/sandbox/plan.js'
import {manifest} from '../sandbox/plan-fixture.js'

const NODE = 24684096 * 1024

describe('capabilities', () => {
  it('builds the default container set as /proc prints it', () => {
    expect(capabilityMask(DEFAULT_CAPABILITIES)).toBe('00000000a80425fb')
    expect(capabilityMask(['CAP_CHOWN', 'CAP_NET_RAW'])).toBe('0000000000002001')
    expect(capabilityNames('0000000000002001')).toEqual(['chown', 'net_raw'])
    expect(capabilityMask([])).toBe('0000000000000000')
  })
})

describe('parseProcStatus', () => {
  it('reads the capability, no_new_privs, seccomp and uid fields', () => {
    const text = 'Name:\tsleep\nUid:\t0\t1000\t0\t0\nCapInh:\t0000000000000000\nCapEff:\t00000000a80425fb\nNoNewPrivs:\t1\nSeccomp:\t2\n'
    expect(parseProcStatus(text)).toEqual({capEff: '00000000a80425fb', noNewPrivs: '1', seccomp: '2', uid: '1000'})
    expect(parseProcStatus('Name:\tx\n')).toEqual({capEff: null, noNewPrivs: null, seccomp: null, uid: null})
  })
})

describe('networkShape', () => {
  const base = {hostNetwork: false, ips: ['10.250.0.2'], hostVeth: {name: 'vethA', ifindex: 3}, hostRoute: {destination: '10.250.0.2/32', dev: 'vethA', via: null}} as unknown as PodReport
  it('tells a kindnet/ptp pod from a bridge pod and the host network', () => {
    expect(networkShape(base)).toBe(POD_NETWORK)
    expect(networkShape({...base, hostRoute: {destination: '10.244.0.0/24', dev: 'cni0', via: null}})).toBe('own netns, veth without a /32 host route')
    expect(networkShape({...base, hostNetwork: true})).toBe('host')
    expect(networkShape({...base, hostVeth: null, hostRoute: null, ips: []})).toBe('own netns, no IP')
  })
})

describe('specLayer', () => {
  it('implies the greedy pod: Burstable, kubelet limits, oom_score_adj by request', () => {
    const layer = specLayer(manifest('greedy.yaml'), NODE)
    expect(layer).toMatchObject({qos: 'Burstable', network: POD_NETWORK, memoryLimit: '209715200', cpuShares: '256', cpuQuota: '50000'})
    expect(layer.containers[0]).toMatchObject({
      name: 'greedy', pid1: 'sleep 10000', memoryLimit: '209715200', cpuShares: '256', cpuQuota: '50000', oomScoreAdj: '996',
      capEff: '00000000a80425fb', noNewPrivs: '1', seccomp: '0', user: '0',
      namespaces: {net: 'sandbox', ipc: 'sandbox', uts: 'sandbox', pid: 'own', mnt: 'own'},
    })
    expect(layer.containers[0].mounts).toEqual({'/': 'rw', '/proc': 'rw', '/dev': 'rw', '/dev/pts': 'rw', '/dev/shm': 'rw', '/sys': 'ro', '/etc/hosts': 'rw', '/etc/hostname': 'rw', '/etc/resolv.conf': 'rw'})
  })
  it('adds volume mounts with their mode', () => {
    const reader = specLayer(manifest('two-containers.yaml'), NODE).containers[1]
    expect(reader.mounts).toMatchObject({'/scratch': 'rw', '/host/debian_version': 'ro'})
  })
})

describe('compareLayers', () => {
  const spec = specLayer(manifest('greedy.yaml'), NODE)
  const same = structuredClone(spec)

  it('finds no difference between identical layers', () => {
    const rows = compareLayers(spec, null, same)
    expect(rows.filter((r) => r.differs)).toEqual([])
    expect(rows.length).toBe(5 + 14 + 9)
  })

  it('names exactly the rows that differ, each with one sentence', () => {
    const kernel = structuredClone(spec)
    kernel.containers[0].memoryLimit = 'unlimited'
    kernel.containers[0].namespaces.net = 'host'
    kernel.containers[0].capEff = capabilityMask([...DEFAULT_CAPABILITIES, 'sys_admin'])
    kernel.containers[0].noNewPrivs = '0'
    kernel.containers[0].mounts!['/var/run/secrets/kubernetes.io/serviceaccount'] = 'ro'
    const diffs = compareLayers(spec, null, kernel).filter((r) => r.differs)
    expect(diffs.map((r) => [r.scope, r.row, r.explanation])).toEqual([
      ['greedy', 'net namespace', "net namespace is the node's own, expected shared with the pod's pause process"],
      ['greedy', 'memory limit', 'memory limit unlimited where the kubelet sets 209715200 (the limit, or the sum of all limits at pod level)'],
      ['greedy', 'capabilities (CapEff)', 'capabilities differ from the default set; added: sys_admin'],
      ['greedy', 'no_new_privs', 'no_new_privs is 0, expected 1: containerd sets it only for allowPrivilegeEscalation: false, the reference pod always does'],
      ['greedy', 'mount /var/run/secrets/kubernetes.io/serviceaccount', "/var/run/secrets/kubernetes.io/serviceaccount is mounted (ro) beyond what the spec implies (the kubelet's service account token and termination log, or the runtime's defaults)"],
    ])
  })

  it('compares against the reference, not the spec, with --with', () => {
    const reference = structuredClone(spec)
    reference.containers[0].oomScoreAdj = '0'
    const kernel = structuredClone(reference)
    const rows = compareLayers(spec, null, kernel, reference)
    expect(rows.filter((r) => r.differs)).toEqual([])
    expect(rows.find((r) => r.row === 'oom_score_adj')).toMatchObject({spec: '996', kernel: '0', reference: '0', differs: false})
  })

  it('reports a container missing on one side', () => {
    const kernel = structuredClone(spec)
    kernel.containers = []
    expect(compareLayers(spec, null, kernel).filter((r) => r.differs)).toEqual([
      {scope: 'greedy', row: 'container', spec: 'present', runtime: null, kernel: '-', differs: true, explanation: 'container greedy is in the spec but not running in the pod'},
    ])
  })

  it('uses the runtime layer where the kernel cannot say', () => {
    const kernel = structuredClone(spec)
    kernel.containers[0].seccomp = null
    const runtime = structuredClone(spec)
    runtime.containers[0].seccomp = '2'
    const row = compareLayers(spec, runtime, kernel).find((r) => r.row === 'seccomp')!
    expect(row).toMatchObject({runtime: '2', kernel: null, differs: true, explanation: 'seccomp mode 2 (filter: a RuntimeDefault or custom profile), expected 0'})
  })
})
