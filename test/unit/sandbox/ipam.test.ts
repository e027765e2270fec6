import {describe, expect, it} from 'vitest'
import {pickPodAddress} from '../../../src/sandbox/ipam.js'

describe('ipam', () => {
  it('hands out the first free address after the gateway', () => {
    expect(pickPodAddress('10.250.0.0/24', [])).toEqual({podIp: '10.250.0.2', gateway: '10.250.0.1', prefixLength: 24, cidr: '10.250.0.0/24'})
    expect(pickPodAddress('10.250.0.7/24', ['10.250.0.2', '10.250.0.4']).podIp).toBe('10.250.0.3')
    expect(pickPodAddress('10.99.0.0/30', []).podIp).toBe('10.99.0.2')
  })
  it('says when the range is full or not a range', () => {
    expect(() => pickPodAddress('10.99.0.0/30', ['10.99.0.2'])).toThrow('--pod-cidr 10.99.0.0/30: no free address left')
    expect(() => pickPodAddress('banana', [])).toThrow('--pod-cidr banana: not a CIDR (e.g. 10.250.0.0/24)')
    expect(() => pickPodAddress('fd00::/64', [])).toThrow('only IPv4')
  })
})
