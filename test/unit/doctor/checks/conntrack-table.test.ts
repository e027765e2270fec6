import {describe, expect, it} from 'vitest'
import {conntrackTable} from '../../../../src/doctor/checks/conntrack-table.js'

describe('conntrack-table', () => {
  it('passes, warns at 75%, fails at 90%', () => {
    expect(conntrackTable.evaluate({count: 1200, max: 262144})).toMatchObject({status: 'PASS', seen: '1200 of 262144 entries (0.5%)'})
    expect(conntrackTable.evaluate({count: 200000, max: 262144}).status).toBe('WARN')
    expect(conntrackTable.evaluate({count: 262144, max: 262144}).status).toBe('FAIL')
  })
  it('skips without nf_conntrack', () => {
    expect(conntrackTable.evaluate({count: undefined, max: undefined}).status).toBe('SKIP')
  })
})
