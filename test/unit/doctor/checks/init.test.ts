import {describe, expect, it} from 'vitest'
import {init} from '../../../../src/doctor/checks/init.js'

describe('init', () => {
  it('passes under systemd', () => {
    expect(init.evaluate({comm: 'systemd', argv: ['/sbin/init', 'splash'], kubeletParents: ['systemd']})).toMatchObject({status: 'PASS', seen: "PID 1 is systemd; kubelet's parents: systemd"})
  })
  it('passes when another supervisor runs the kubelet', () => {
    expect(init.evaluate({comm: 'openrc-init', argv: ['/sbin/openrc-init'], kubeletParents: ['supervise-daemon', 'openrc-init']}).status).toBe('PASS')
    expect(init.evaluate({comm: 's6-svscan', argv: ['s6-svscan'], kubeletParents: ['s6-supervise', 's6-svscan']}).status).toBe('PASS')
  })
  it('warns when PID 1 is no init and nothing supervises', () => {
    const v = init.evaluate({comm: 'bash', argv: ['/bin/bash'], kubeletParents: null})
    expect(v).toMatchObject({status: 'WARN', seen: 'PID 1 is bash (/bin/bash), not systemd; no kubelet running'})
  })
})
