import {describe, expect, it} from 'vitest'
import {renderTrace, sourceText} from '../../../src/probe/render.js'
import type {TraceReport} from '../../../src/probe/trace-types.js'

describe('trace table', () => {
  const report: TraceReport = {
    mode: 'iptables-nft',
    from: {kind: 'pod', namespace: 'demo', name: 'evil\u001b]2;owned\u0007', uid: 'u', pid: 42, ip: '10.88.0.5'},
    to: {ip: '10.96.0.10', port: 80, protocol: 'tcp'}, service: 'demo/web:http',
    packet: {sourcePort: 20001, sourceIp: '10.88.0.5', result: 'answered', error: null, ms: 1.5},
    conntrack: {ip: '10.254.1.2', port: 8080, state: 'TIME_WAIT'},
    trace: {hops: [{family: 'ip', table: 'nat', chain: 'KUBE-SERVICES', kind: 'rule', position: 1, handle: 13, rule: '-A KUBE-SERVICES -m comment --comment "\u202eevil" -j KUBE-SVC-X', verdict: 'jump KUBE-SVC-X'}]},
    predicted: {route: ['KUBE-SERVICES', 'KUBE-SVC-X'], verdict: 'DNAT to 10.254.1.2:8080', source: 'iptables-nft'},
    observed: {route: ['KUBE-SERVICES', 'KUBE-SVC-X'], verdict: 'DNAT 10.254.1.2:8080', dnat: {ip: '10.254.1.2', port: 8080}},
    differences: [], cleanup: ['nft table inet nodedoc-0a1b2c3d'], notes: [],
  }

  it('shows a pod\'s and a rule\'s control characters instead of sending them to the terminal', () => {
    const text = renderTrace(report, true)
    expect(text).not.toMatch(/[\u001b\u0007\u202e]/)
    expect(text).toContain('evil\\x1b]2;owned\\x07')
    expect(text).toContain('\\u202eevil')
    expect(sourceText(report.from)).toBe('pod demo/evil\\x1b]2;owned\\x07 (10.88.0.5, netns of PID 42)')
  })

  it('says there is no difference, and what was removed', () => {
    const text = renderTrace(report, false)
    expect(text).toContain('No difference: the packet took the predicted path.')
    expect(text).toContain('Removed after tracing:\n  - nft table inet nodedoc-0a1b2c3d')
  })
})
