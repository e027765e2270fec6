import {describe, expect, it} from 'vitest'
import {parseTarget} from '../../../src/probe/trace-service.js'

describe('trace --to', () => {
  it.each([
    ['10.96.0.10:80', {ip: '10.96.0.10', port: 80, protocol: 'tcp'}],
    ['10.96.0.10:53/udp', {ip: '10.96.0.10', port: 53, protocol: 'udp'}],
    ['10.96.0.10:53/UDP', {ip: '10.96.0.10', port: 53, protocol: 'udp'}],
    ['[FD00::A]:53/udp', {ip: 'fd00::a', port: 53, protocol: 'udp'}],
  ])('%s', (text, target) => expect(parseTarget(text)).toEqual(target))

  it.each(['10.96.0.10', '10.96.0.10:0', '10.96.0.10:70000', 'kube-dns:53', '10.96.0.10:53/sctp', 'fd00::a:53', ''])('refuses %j', (text) => {
    expect(parseTarget(text)).toBeNull()
  })
})
