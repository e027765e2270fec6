import {describe, expect, it} from 'vitest'
import {
  cgroupV1Files, cgroupV2Files, containerCgroupPath, containerLimits, milliCpuToQuota, milliCpuToShares, oomScoreAdj,
  podCgroupPath, podLimits, qosCgroupParents, qosClass, sharesToWeight,
} from '../../../src/sandbox/kubelet.js'
import type {ContainerSpec, ResourceAmounts} from '../../../src/sandbox/manifest.js'

const Mi = 2 ** 20
const amounts = (cpuMilli: number | null = null, memoryBytes: number | null = null): ResourceAmounts => ({cpuMilli, memoryBytes})
function ctr(requests: ResourceAmounts, limits: ResourceAmounts): ContainerSpec {
  return {name: 'c', image: null, command: null, args: null, env: [], workingDir: null, resources: {requests, limits}, volumeMounts: [], runAsUser: null, runAsGroup: null}
}
const UID = '8d5e6f9a-1b2c-4d3e-9f80-a1b2c3d4e5f6'

describe('qosClass', () => {
  it('is BestEffort with no requests or limits anywhere', () => {
    expect(qosClass({containers: [ctr(amounts(), amounts()), ctr(amounts(), amounts())]})).toBe('BestEffort')
  })
  it('is Guaranteed when every container has cpu and memory limits equal to requests', () => {
    expect(qosClass({containers: [ctr(amounts(100, 64 * Mi), amounts(100, 64 * Mi)), ctr(amounts(1000, Mi), amounts(1000, Mi))]})).toBe('Guaranteed')
  })
  it('is Burstable for the greedy pod (requests below limits)', () => {
    expect(qosClass({containers: [ctr(amounts(250, 100 * Mi), amounts(500, 200 * Mi))]})).toBe('Burstable')
  })
  it('is Burstable when one container lacks a cpu limit', () => {
    expect(qosClass({containers: [ctr(amounts(100, Mi), amounts(100, Mi)), ctr(amounts(null, Mi), amounts(null, Mi))]})).toBe('Burstable')
  })
  it('is Burstable when only one container asks for anything', () => {
    expect(qosClass({containers: [ctr(amounts(), amounts()), ctr(amounts(10), amounts())]})).toBe('Burstable')
  })
})

describe('cpu formulas', () => {
  it.each([[null, 2], [0, 2], [1, 2], [2, 2], [100, 102], [250, 256], [500, 512], [1000, 1024], [1500, 1536], [300000, 262144]])(
    'shares for %s millicores = %d', (milli, shares) => expect(milliCpuToShares(milli)).toBe(shares))
  it.each([[null, null], [0, null], [1, 1000], [5, 1000], [10, 1000], [100, 10000], [500, 50000], [2500, 250000]])(
    'quota for a %s millicore limit = %s us', (milli, quota) => expect(milliCpuToQuota(milli)).toBe(quota))
  it.each([[2, 1], [1024, 39], [262144, 10000], [102, 4], [0, 0]])('v2 weight from %d shares = %d', (shares, weight) => expect(sharesToWeight(shares)).toBe(weight))
})

describe('oomScoreAdj', () => {
  const node = 24684096 * 1024
  it('is -997 for Guaranteed and 1000 for BestEffort', () => {
    expect(oomScoreAdj('Guaranteed', Mi, node)).toBe(-997)
    expect(oomScoreAdj('BestEffort', null, node)).toBe(1000)
  })
  it('scales with the memory request for Burstable', () => {
    // 1000 - 1000*100Mi/24684096Ki = 1000 - 4.14.. -> 996
    expect(oomScoreAdj('Burstable', 100 * Mi, node)).toBe(996)
    expect(oomScoreAdj('Burstable', node / 2, node)).toBe(500)
  })
  it('stays at least 3 and lowers 1000 to 999', () => {
    expect(oomScoreAdj('Burstable', node, node)).toBe(3)
    expect(oomScoreAdj('Burstable', 2 * node, node)).toBe(3)
    expect(oomScoreAdj('Burstable', null, node)).toBe(999)
    expect(oomScoreAdj('Burstable', 1, node)).toBe(999)
  })
})

describe('cgroup paths', () => {
  it('names cgroupfs paths by QoS', () => {
    expect(podCgroupPath('cgroupfs', 'Burstable', UID)).toBe(`/kubepods/burstable/pod${UID}`)
    expect(podCgroupPath('cgroupfs', 'BestEffort', UID)).toBe(`/kubepods/besteffort/pod${UID}`)
    expect(podCgroupPath('cgroupfs', 'Guaranteed', UID)).toBe(`/kubepods/pod${UID}`)
    expect(containerCgroupPath('cgroupfs', `/kubepods/pod${UID}`, 'abc')).toBe(`/kubepods/pod${UID}/abc`)
    expect(qosCgroupParents('cgroupfs', 'Burstable')).toEqual(['/kubepods', '/kubepods/burstable'])
    expect(qosCgroupParents('cgroupfs', 'Guaranteed')).toEqual(['/kubepods'])
  })
  it('names systemd slices with - in the UID as _', () => {
    const escaped = UID.replace(/-/g, '_')
    expect(podCgroupPath('systemd', 'Burstable', UID)).toBe(`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${escaped}.slice`)
    expect(podCgroupPath('systemd', 'BestEffort', UID)).toBe(`/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${escaped}.slice`)
    expect(podCgroupPath('systemd', 'Guaranteed', UID)).toBe(`/kubepods.slice/kubepods-pod${escaped}.slice`)
    expect(containerCgroupPath('systemd', '/p.slice', 'abc')).toBe('/p.slice/cri-containerd-abc.scope')
    expect(qosCgroupParents('systemd', 'BestEffort')).toEqual(['/kubepods.slice', '/kubepods.slice/kubepods-besteffort.slice'])
  })
})

describe('limits', () => {
  const greedy = ctr(amounts(250, 100 * Mi), amounts(500, 200 * Mi))
  it('gives the greedy container its v1 files', () => {
    expect(cgroupV1Files(containerLimits(greedy))).toEqual([
      {controller: 'cpu', file: 'cpu.shares', value: '256'},
      {controller: 'cpu', file: 'cpu.cfs_period_us', value: '100000'},
      {controller: 'cpu', file: 'cpu.cfs_quota_us', value: '50000'},
      {controller: 'memory', file: 'memory.limit_in_bytes', value: '209715200'},
    ])
  })
  it('gives the same limits as v2 files', () => {
    expect(cgroupV2Files(containerLimits(greedy))).toEqual([
      {controller: '', file: 'cpu.weight', value: '10'},
      {controller: '', file: 'cpu.max', value: '50000 100000'},
      {controller: '', file: 'memory.max', value: '209715200'},
    ])
    expect(cgroupV2Files({...containerLimits(ctr(amounts(), amounts())), pidsMax: 5})).toEqual([
      {controller: '', file: 'cpu.weight', value: '1'},
      {controller: '', file: 'cpu.max', value: 'max 100000'},
      {controller: '', file: 'memory.max', value: 'max'},
      {controller: '', file: 'pids.max', value: '5'},
    ])
  })
  it('sums a pod: shares from requests; quota and memory only when every container is limited', () => {
    const limited = ctr(amounts(100, 64 * Mi), amounts(200, 128 * Mi))
    expect(podLimits({containers: [greedy, limited]}, 10)).toEqual({cpuShares: 358, cpuQuotaUs: 70000, cpuPeriodUs: 100000, memoryLimitBytes: 328 * Mi, pidsMax: 10})
    expect(podLimits({containers: [greedy, ctr(amounts(100), amounts())]})).toEqual({cpuShares: 358, cpuQuotaUs: null, cpuPeriodUs: 100000, memoryLimitBytes: null, pidsMax: null})
    expect(podLimits({containers: [ctr(amounts(), amounts())]}).cpuShares).toBe(2)
  })
})
