import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {parseIptablesSave} from '../../../src/parse/iptables.js'
import {tallyProbe} from '../../../src/probe/tally.js'
import type {FrontendProbe, ProbeAttempt} from '../../../src/probe/types.js'
import {traceIptables} from '../../../src/svc/iptables-trace.js'

// the prediction: svc's trace of real rules read back from the kernel (three endpoints, one with none)
const save = readFileSync(join(__dirname, '../../fixtures/probe/iptables-nft-save-netns.txt'), 'utf8')
const services = traceIptables(parseIptablesSave(save)).services
const web = services.find((s) => s.service === 'demo/web:http')!
const empty = services.find((s) => s.service === 'demo/empty:http')!

let port = 20000
function attempt(result: ProbeAttempt['result'], endpoint: string | null): ProbeAttempt {
  const [ip, p] = endpoint?.split(':') ?? []
  return {sourcePort: port++, sourceIp: '10.88.0.5', result, error: result === 'refused' ? 'ECONNREFUSED' : null, ms: 1, endpoint: endpoint ? {ip, port: Number(p)} : null, conntrack: endpoint ? {state: 'TIME_WAIT', replied: true} : null}
}

function frontend(ip: string, attempts: ProbeAttempt[]): FrontendProbe {
  const n = (r: string) => attempts.filter((a) => a.result === r).length
  return {target: {ip, port: 80, protocol: 'tcp'}, sent: attempts.length, answered: n('answered'), refused: n('refused'), timedOut: n('timedOut'), errors: n('error'), attempts}
}

const many = (n: number, endpoint: string) => Array.from({length: n}, () => attempt('answered', endpoint))

describe('probe tally', () => {
  it('counts flows per traced endpoint and finds nothing when the shares fit', () => {
    const r = tallyProbe(web, [frontend('10.96.0.10', [...many(48, '10.254.1.2:8080'), ...many(55, '10.254.2.2:8080'), ...many(47, '10.254.3.2:8080')])], {kind: 'node'}, 150)
    expect(r.endpoints.map((e) => [e.ip, e.observed, e.chain])).toEqual([
      ['10.254.1.2', 48, 'KUBE-SEP-MBDLYWHOQR6P3SKK'], ['10.254.2.2', 55, 'KUBE-SEP-JHASFCSDMDJ47MOL'], ['10.254.3.2', 47, 'KUBE-SEP-VEOJDPJKVSVSZUXL'],
    ])
    expect(r).toMatchObject({sent: 150, answered: 150, degreesOfFreedom: 2, findings: [], unpredicted: [], predictedVerdict: 'DNAT'})
    expect(r.chiSquare).toBeCloseTo(0.76, 2)
    expect(r.pValue).toBeGreaterThan(0.5)
  })

  it('a split far from the rules\' is a finding', () => {
    const r = tallyProbe(web, [frontend('10.96.0.10', [...many(120, '10.254.1.2:8080'), ...many(15, '10.254.2.2:8080'), ...many(15, '10.254.3.2:8080')])], {kind: 'node'}, 150)
    expect(r.pValue).toBeLessThan(0.001)
    expect(r.findings[0]).toMatch(/do not fit/)
  })

  it('flows to an address no rule names, refusals and failures are findings when DNAT is predicted', () => {
    const r = tallyProbe(web, [frontend('10.96.0.10', [...many(3, '10.254.9.9:8080'), attempt('refused', null), attempt('timedOut', null), {...attempt('error', null), error: 'EHOSTUNREACH'}])], {kind: 'node'}, 6)
    expect(r.unpredicted).toEqual([{ip: '10.254.9.9', port: 8080, observed: 3}])
    expect(r.findings).toEqual([
      '1 of 6 refused, but the rules DNAT every new connection to an endpoint',
      '1 of 6 timed out, but the rules DNAT every new connection to an endpoint',
      '1 of 6 failed (1 EHOSTUNREACH), but the rules DNAT every new connection to an endpoint',
      '3 flow(s) went to 10.254.9.9:8080, which no rule of this service names',
    ])
  })

  it('a refused Service that the rules REJECT is no finding; an answer would be', () => {
    expect(empty.verdict).toMatch(/^REJECT/)
    const refused = tallyProbe(empty, [frontend('10.96.0.20', [attempt('refused', null), attempt('refused', null)])], {kind: 'node'}, 2)
    expect(refused).toMatchObject({refused: 2, findings: [], chiSquare: null})
    expect(refused.predictedVerdict).toMatch(/^REJECT \(filter KUBE-SERVICES/)
    const answered = tallyProbe(empty, [frontend('10.96.0.20', [attempt('answered', '10.96.0.20:80')])], {kind: 'node'}, 1)
    expect(answered.findings).toEqual([`1 of 1 answered, but the rules predict ${empty.verdict}`])
  })

  it('with ClientIP affinity every flow must reach one endpoint', () => {
    const sticky = {...web, sessionAffinity: {type: 'ClientIP' as const, timeoutSeconds: 10800}}
    expect(tallyProbe(sticky, [frontend('10.96.0.10', many(10, '10.254.2.2:8080'))], {kind: 'node'}, 10)).toMatchObject({affinityHeld: true, chiSquare: null, findings: []})
    const broken = tallyProbe(sticky, [frontend('10.96.0.10', [...many(5, '10.254.2.2:8080'), ...many(5, '10.254.3.2:8080')])], {kind: 'node'}, 10)
    expect(broken.affinityHeld).toBe(false)
    expect(broken.findings[0]).toMatch(/session affinity, yet one source reached 2 endpoints/)
  })
})
