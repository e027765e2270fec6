import {describe, expect, it} from 'vitest'
import {describeEntry, portRanges} from '../../../src/write/probe-journal.js'

describe('probe journal entries', () => {
  it('folds source ports into ranges', () => {
    expect(portRanges([20003, 20001, 20002, 20010, 20010, 25000, 25001])).toBe('20001-20003,20010,25000-25001')
    expect(portRanges([])).toBe('')
  })

  it('says what each entry is, in one line', () => {
    expect(describeEntry({kind: 'nft-table', family: 'inet', name: 'nodedoc-0a1b2c3d'})).toBe('nft table inet nodedoc-0a1b2c3d')
    expect(describeEntry({kind: 'conntrack', protocol: 'tcp', src: '10.88.0.5', dst: '10.96.0.10', dport: 80, sports: [20001, 20002]})).toBe('conntrack entries tcp 10.88.0.5 -> 10.96.0.10:80 from source ports 20001-20002')
    expect(describeEntry({kind: 'iptables-rule', program: 'iptables-legacy', table: 'raw', chain: 'PREROUTING', spec: ['-p', 'tcp', '-j', 'TRACE']})).toBe('iptables-legacy -t raw PREROUTING rule -p tcp -j TRACE')
    expect(describeEntry({kind: 'process', pid: 42, startTime: 7, what: 'nft -i'})).toBe('process 42 (nft -i)')
  })
})
