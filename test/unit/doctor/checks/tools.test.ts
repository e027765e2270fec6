import {describe, expect, it} from 'vitest'
import {OPTIONAL_TOOLS, REQUIRED_TOOLS, tools} from '../../../../src/doctor/checks/tools.js'

const all = Object.fromEntries([...REQUIRED_TOOLS, ...OPTIONAL_TOOLS].map((t) => [t, `/usr/sbin/${t}`]))

describe('tools', () => {
  it('passes when every program is there', () => {
    expect(tools.evaluate({found: all}).status).toBe('PASS')
  })
  it('warns for missing socat/conntrack only', () => {
    expect(tools.evaluate({found: {...all, conntrack: null}})).toMatchObject({status: 'WARN', items: ['conntrack']})
  })
  it('fails naming every missing required program', () => {
    const v = tools.evaluate({found: {...all, nsenter: null, iptables: null, socat: null}})
    expect(v).toMatchObject({status: 'FAIL', seen: 'missing: iptables, nsenter, socat', items: ['iptables', 'nsenter']})
  })
})
