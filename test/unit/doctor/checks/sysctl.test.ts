import {describe, expect, it} from 'vitest'
import {bridgeNfCallIptables, ipForward} from '../../../../src/doctor/checks/sysctl.js'

describe('ip-forward / bridge-nf-call-iptables', () => {
  it('pass at 1, fail at 0', () => {
    expect(ipForward.evaluate({value: '1'})).toEqual({status: 'PASS', seen: '/proc/sys/net/ipv4/ip_forward = 1', items: undefined})
    expect(ipForward.evaluate({value: '0'})).toMatchObject({status: 'FAIL', seen: '/proc/sys/net/ipv4/ip_forward = 0'})
    expect(bridgeNfCallIptables.evaluate({value: '0'}).fix).toMatch(/bridge-nf-call-iptables=1/)
  })
  it('a missing bridge sysctl means br_netfilter is not loaded', () => {
    expect(bridgeNfCallIptables.evaluate({value: undefined})).toMatchObject({status: 'FAIL', seen: expect.stringMatching(/br_netfilter is not loaded/)})
  })
})
