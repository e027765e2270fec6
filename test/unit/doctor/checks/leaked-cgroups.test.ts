import {describe, expect, it} from 'vitest'
import {leakedCgroups} from '../../../../src/doctor/checks/leaked-cgroups.js'

describe('leaked-cgroups', () => {
  it('warns for pod cgroups with no process', () => {
    const v = leakedCgroups.evaluate({pods: [
      {podUid: 'a', path: '/sys/fs/cgroup/pids/kubepods/besteffort/poda', processes: 0},
      {podUid: 'b', path: '/sys/fs/cgroup/pids/kubepods/podb', processes: 3},
    ]})
    expect(v).toMatchObject({status: 'WARN', seen: '1 of 2 pod cgroups have no process: /sys/fs/cgroup/pids/kubepods/besteffort/poda'})
  })
  it('passes when all have processes, skips without any', () => {
    expect(leakedCgroups.evaluate({pods: [{podUid: 'b', path: '/x', processes: 1}]}).status).toBe('PASS')
    expect(leakedCgroups.evaluate({pods: []}).status).toBe('SKIP')
  })
})
