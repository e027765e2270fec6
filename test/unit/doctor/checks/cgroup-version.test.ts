import {describe, expect, it} from 'vitest'
import {cgroupVersion} from '../../../../src/doctor/checks/cgroup-version.js'

describe('cgroup-version', () => {
  it('passes on v2, warns on v1', () => {
    expect(cgroupVersion.evaluate({unified: true, v1Memory: false}).status).toBe('PASS')
    expect(cgroupVersion.evaluate({unified: false, v1Memory: true})).toMatchObject({status: 'WARN', seen: 'cgroup v1 (controllers under /sys/fs/cgroup/<controller>)'})
  })
})
