import {describe, expect, it} from 'vitest'
import {stalePodDirs} from '../../../../src/doctor/checks/stale-pod-dirs.js'

describe('stale-pod-dirs', () => {
  it('warns for kubelet pod folders of pods that do not run', () => {
    expect(stalePodDirs.evaluate({podDirs: ['u1', 'u2'], running: ['u1']})).toMatchObject({status: 'WARN', items: ['/var/lib/kubelet/pods/u2']})
    expect(stalePodDirs.evaluate({podDirs: ['u1'], running: ['u1', 'u3']}).status).toBe('PASS')
    expect(stalePodDirs.evaluate({podDirs: undefined, running: []}).status).toBe('SKIP')
  })
})
