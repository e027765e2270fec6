// The test node's kubelet arithmetic (test/e2e/node/resources.ts) against the kubelet's own
// figures (NODE-FACTS.md), so the e2e limits are checked against the right expectations.
import {describe, expect, it} from 'vitest'
import {bytes, cgroupParent, containerResources, milliCpu, milliCpuToQuota, milliCpuToShares, oomScoreAdj, podCgroupValues, qosClass} from './resources.js'

const GiB = 2 ** 30

describe('kubelet resource formulas', () => {
  it('reads quantities', () => {
    expect([milliCpu('250m'), milliCpu('1'), milliCpu('1.5'), milliCpu(undefined)]).toEqual([250, 1000, 1500, 0])
    expect([bytes('200Mi'), bytes('64Mi'), bytes('1G'), bytes('1Gi'), bytes('1024')]).toEqual([209_715_200, 67_108_864, 1e9, GiB, 1024])
    expect(() => bytes('lots')).toThrow(/not a memory quantity/)
  })

  it('turns milliCPU into shares and quota', () => {
    expect([milliCpuToShares(0), milliCpuToShares(1), milliCpuToShares(100), milliCpuToShares(250), milliCpuToShares(1000)]).toEqual([2, 2, 102, 256, 1024])
    expect([milliCpuToQuota(0), milliCpuToQuota(5), milliCpuToQuota(250), milliCpuToQuota(2000)]).toEqual([0, 1000, 25_000, 200_000])
  })

  it('classes pods by QoS, with limits standing in for missing requests', () => {
    expect(qosClass([{}])).toBe('BestEffort')
    expect(qosClass([{limits: {cpu: '250m', memory: '64Mi'}}])).toBe('Guaranteed')
    expect(qosClass([{requests: {memory: '100Mi'}, limits: {memory: '200Mi'}}])).toBe('Burstable')
    expect(qosClass([{limits: {cpu: '1', memory: '1Gi'}}, {}])).toBe('Burstable')
    expect([cgroupParent('Guaranteed', 'u'), cgroupParent('Burstable', 'u'), cgroupParent('BestEffort', 'u')]).toEqual(['/kubepods/podu', '/kubepods/burstable/podu', '/kubepods/besteffort/podu'])
  })

  it('scores OOM by QoS and memory request', () => {
    expect(oomScoreAdj('Guaranteed', 0, GiB)).toBe(-997)
    expect(oomScoreAdj('BestEffort', 0, GiB)).toBe(1000)
    expect(oomScoreAdj('Burstable', 100 * 2 ** 20, GiB)).toBe(903)
    expect(oomScoreAdj('Burstable', 0, GiB)).toBe(999)
    expect(oomScoreAdj('Burstable', 2 * GiB, GiB)).toBe(3)
  })

  it('fills CRI container resources and the pod cgroup as the kubelet does', () => {
    expect(containerResources({requests: {cpu: '100m', memory: '16Mi'}, limits: {cpu: '500m', memory: '32Mi'}}, 'Burstable', 24 * GiB)).toEqual({
      cpuShares: 102, cpuPeriod: 100_000, cpuQuota: 50_000, memoryLimitInBytes: 33_554_432, oomScoreAdj: 999,
    })
    expect(containerResources({}, 'BestEffort', GiB)).toEqual({cpuShares: 2, cpuPeriod: 0, cpuQuota: 0, memoryLimitInBytes: 0, oomScoreAdj: 1000})
    const duo = [{requests: {cpu: '100m', memory: '16Mi'}, limits: {cpu: '500m', memory: '32Mi'}}, {requests: {cpu: '50m'}}]
    expect(podCgroupValues(duo, 'Burstable')).toEqual({'cpu.shares': 153, 'cpu.cfs_period_us': 100_000, 'cpu.cfs_quota_us': -1, 'memory.limit_in_bytes': -1})
    expect(podCgroupValues([{limits: {cpu: '250m', memory: '64Mi'}}], 'Guaranteed')).toEqual({'cpu.shares': 256, 'cpu.cfs_period_us': 100_000, 'cpu.cfs_quota_us': 25_000, 'memory.limit_in_bytes': 67_108_864})
    expect(podCgroupValues([{}], 'BestEffort')['cpu.shares']).toBe(2)
  })
})
