import {describe, expect, it} from 'vitest'
import {pids} from '../../../../src/doctor/checks/pids.js'

describe('pids', () => {
  it('compares threads with pid_max', () => {
    expect(pids.evaluate({threads: 412, pidMax: 4194304})).toMatchObject({status: 'PASS', seen: '412 of 4194304 PIDs (0%)'})
    expect(pids.evaluate({threads: 25000, pidMax: 32768}).status).toBe('WARN')
    expect(pids.evaluate({threads: 32000, pidMax: 32768}).status).toBe('FAIL')
    expect(pids.evaluate({threads: undefined, pidMax: 32768}).status).toBe('SKIP')
  })
})
