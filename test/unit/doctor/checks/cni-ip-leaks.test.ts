import {describe, expect, it} from 'vitest'
import {cniIpLeaks} from '../../../../src/doctor/checks/cni-ip-leaks.js'

const id = (c: string) => c.repeat(64)
const at = {dataDir: '/var/lib/cni/networks'}

describe('cni-ip-leaks', () => {
  it('warns for addresses whose sandbox is gone', () => {
    const v = cniIpLeaks.evaluate({
      allocations: [{...at, network: 'kindnet', ip: '10.244.0.5', containerId: id('a')}, {...at, network: 'kindnet', ip: '10.244.0.6', containerId: id('b')}, {...at, network: 'kindnet', ip: '10.244.0.7', containerId: id('c')}],
      runningIds: [id('a')],
      podIps: ['10.244.0.7'],
    })
    expect(v).toMatchObject({status: 'WARN', seen: '1 of 3 allocations held by no running sandbox: kindnet/10.244.0.6 (bbbbbbbbbbbb)'})
  })
  it('passes when all are held, skips without host-local', () => {
    expect(cniIpLeaks.evaluate({allocations: [{...at, network: 'n', ip: '10.0.0.2', containerId: id('a')}], runningIds: [id('a')], podIps: []}).status).toBe('PASS')
    expect(cniIpLeaks.evaluate({allocations: undefined, runningIds: [], podIps: []}).status).toBe('SKIP')
  })
})
