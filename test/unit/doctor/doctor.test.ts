import {describe, expect, it} from 'vitest'
import {selectChecks} from '../../../src/doctor/doctor.js'
import {CHECKS} from '../../../src/doctor/registry.js'
import {renderDoctor} from '../../../src/doctor/render.js'

describe('doctor check selection and output', () => {
  it('every check has a unique id, a title and a why', () => {
    expect(new Set(CHECKS.map((c) => c.id)).size).toBe(CHECKS.length)
    for (const c of CHECKS) expect(c.title && c.why, c.id).toBeTruthy()
  })
  it('selects by id, by area, comma-separated; names unknown ones', () => {
    expect(selectChecks(['swap,ip-forward']).map((c) => c.id)).toEqual(['swap', 'ip-forward'])
    expect(selectChecks(['kernel']).map((c) => c.id)).toEqual(['ip-forward', 'bridge-nf-call-iptables', 'conntrack-table'])
    expect(() => selectChecks(['swap', 'nope'])).toThrow(/^unknown check nope; known: swap, tools/)
  })
  it('prints one line per check and the why/fix under WARN and FAIL', () => {
    process.env.NO_COLOR = '1'
    const text = renderDoctor([
      {id: 'swap', area: 'prereqs', title: 't', status: 'PASS', seen: 'no swap', why: 'w1', fix: null},
      {id: 'ip-forward', area: 'kernel', title: 't', status: 'FAIL', seen: '= 0', why: 'w2', fix: 'f2'},
    ], false)
    expect(text.replace(/\x1b\[[0-9;]*m/g, '')).toBe('PASS swap        no swap\nFAIL ip-forward  = 0\n                 why: w2\n                 fix: f2\n\n1 passed, 0 warnings, 1 failed, 0 skipped\n')
  })
})
