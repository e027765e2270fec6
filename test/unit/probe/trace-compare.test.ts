import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {parseIptablesSave} from '../../../src/parse/iptables.js'
import {parseXtablesTrace} from '../../../src/parse/packet-trace.js'
import {RuleBook, compareTrace, dnatTarget, observedRoute, predictedRoute, routeChain, targetsOf} from '../../../src/probe/trace-compare.js'
import type {TraceHop} from '../../../src/probe/trace-types.js'
import {traceIptables} from '../../../src/svc/iptables-trace.js'

const fixture = (name: string) => readFileSync(join(__dirname, '../../fixtures/probe', name), 'utf8')
// a real trace (xtables-monitor) of a SYN to 10.96.0.10:80, and the rules it went through, read back from the same kernel
const save = fixture('iptables-nft-save-netns.txt')
const dump = parseIptablesSave(save)
const web = traceIptables(dump).services.find((s) => s.service === 'demo/web:http')!
const empty = traceIptables(dump).services.find((s) => s.service === 'demo/empty:http')!

/** The monitor's events as hops, each rule numbered by where its text stands in its chain. */
const hops: TraceHop[] = parseXtablesTrace(fixture('xtables-monitor-trace.txt')).filter((e) => e.kind !== 'packet').map((e) => {
  const rules = dump.tables.get(e.table)?.chains.get(e.chain)?.rules.map((r) => r.text) ?? []
  const index = e.rule ? rules.indexOf(e.rule) : -1
  return {family: e.family, table: e.table, chain: e.chain, kind: e.kind as TraceHop['kind'], position: index >= 0 ? index + 1 : null, handle: e.handle, rule: e.rule, verdict: e.verdict}
})

describe('observed and predicted routes', () => {
  it('every rule of the trace is found in the rules read back', () => {
    expect(hops.filter((h) => h.kind === 'rule' && h.position === null)).toEqual([])
  })

  it('the packet went KUBE-SERVICES -> KUBE-SVC -> KUBE-SEP; the masquerade side trip is left out', () => {
    expect(observedRoute('iptables-nft', hops)).toEqual(['KUBE-SERVICES', 'KUBE-SVC-XRY76EGRC3BSCIIJ', 'KUBE-SEP-MBDLYWHOQR6P3SKK'])
  })

  it('svc predicts the same chains to that endpoint, and others to the others', () => {
    expect(predictedRoute('iptables-nft', web, 'KUBE-SEP-MBDLYWHOQR6P3SKK')).toEqual(['KUBE-SERVICES', 'KUBE-SVC-XRY76EGRC3BSCIIJ', 'KUBE-SEP-MBDLYWHOQR6P3SKK'])
    expect(predictedRoute('iptables-nft', web, 'KUBE-SEP-VEOJDPJKVSVSZUXL')).toEqual(['KUBE-SERVICES', 'KUBE-SVC-XRY76EGRC3BSCIIJ', 'KUBE-SEP-VEOJDPJKVSVSZUXL'])
    expect(predictedRoute('iptables-nft', web, 'KUBE-SEP-NOSUCH')).toEqual([])
  })

  it('reads targets and DNAT in both syntaxes', () => {
    expect(targetsOf('numgen random mod 2 vmap { 0 : goto endpoint-A-ns/s/tcp/p__10.0.0.1/80 , 1 : goto endpoint-B-ns/s/tcp/p__10.0.0.2/80 }')).toEqual(['endpoint-A-ns/s/tcp/p__10.0.0.1/80', 'endpoint-B-ns/s/tcp/p__10.0.0.2/80'])
    expect(targetsOf('-A X -m comment --comment "a -j B" -g KUBE-SVC-Y')).toContain('KUBE-SVC-Y')
    expect(dnatTarget('-A KUBE-SEP-X -p tcp -m tcp -j DNAT --to-destination 10.254.1.2:8080')).toEqual({ip: '10.254.1.2', port: 8080})
    expect(dnatTarget('meta l4proto tcp dnat ip to 10.180.0.1:80')).toEqual({ip: '10.180.0.1', port: 80})
    expect(dnatTarget('meta l4proto tcp dnat to [fd00::1]:53')).toEqual({ip: 'fd00::1', port: 53})
  })
})

describe('compareTrace', () => {
  it('finds no difference between the trace and the rules it ran through', () => {
    const c = compareTrace('iptables-nft', web, hops, new RuleBook({mode: 'iptables-nft', text: save}))
    expect(c).toMatchObject({differences: [], dnat: {ip: '10.254.1.2', port: 8080}, observedVerdict: 'DNAT 10.254.1.2:8080'})
    expect(c.predictedRoute).toEqual(c.observedRoute)
  })

  it('rules that changed since they were read (an endpoint chain removed) show as a difference', () => {
    // the packet ran through all three endpoints' rules; the prediction is read from rules without the first
    const stale = save.split('\n').filter((l) => !l.includes('KUBE-SEP-MBDLYWHOQR6P3SKK')).join('\n')
    const staleWeb = traceIptables(parseIptablesSave(stale)).services.find((s) => s.service === 'demo/web:http')!
    const c = compareTrace('iptables-nft', staleWeb, hops, new RuleBook({mode: 'iptables-nft', text: stale}))
    expect(c.differences).toContain('DNAT to 10.254.1.2:8080, which is not one of the predicted endpoints (10.254.2.2:8080, 10.254.3.2:8080)')
    expect(c.differences).toContain('nat KUBE-SVC-XRY76EGRC3BSCIIJ rule 2: predicted `-A KUBE-SVC-XRY76EGRC3BSCIIJ -m comment --comment "demo/web:http -> 10.254.2.2:8080" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-JHASFCSDMDJ47MOL`, the packet matched `-A KUBE-SVC-XRY76EGRC3BSCIIJ -m comment --comment "demo/web:http -> 10.254.1.2:8080" -m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-MBDLYWHOQR6P3SKK`')
    expect(c.differences).toContain('nat KUBE-SEP-MBDLYWHOQR6P3SKK: the packet went through this chain, which the predicted rules do not have')
  })

  it('a packet that was not DNATed, where the rules DNAT, is a difference', () => {
    const notNat = hops.filter((h) => h.table !== 'nat' || h.chain === 'PREROUTING')
    expect(compareTrace('iptables-nft', web, notNat, null).differences[0]).toMatch(/^the packet was not DNATed \(accept\); the rules predict DNAT to 10.254.1.2:8080/)
  })

  it('a REJECT the rules predict is no difference; a DNAT there is', () => {
    const rejected: TraceHop[] = [
      {family: 'ip', table: 'nat', chain: 'PREROUTING', kind: 'rule', position: 1, handle: null, rule: '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES', verdict: 'jump KUBE-SERVICES'},
      {family: 'ip', table: 'filter', chain: 'FORWARD', kind: 'rule', position: 1, handle: null, rule: '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES', verdict: 'jump KUBE-SERVICES'},
      {family: 'ip', table: 'filter', chain: 'KUBE-SERVICES', kind: 'rule', position: 1, handle: null, rule: dump.tables.get('filter')!.chains.get('KUBE-SERVICES')!.rules[0].text, verdict: 'drop'},
    ]
    const c = compareTrace('iptables-legacy', empty, rejected, new RuleBook({mode: 'iptables-legacy', text: save}))
    expect(c.differences).toEqual([])
    expect(c.observedVerdict).toBe('REJECT (filter KUBE-SERVICES)')
    expect(compareTrace('iptables-nft', empty, hops, null).differences).toEqual([`DNAT to 10.254.1.2:8080, but the rules predict ${empty.verdict}`])
  })
})

describe('routeChain', () => {
  it("compares kube-proxy's per-service nftables chains, not its base chains or maps", () => {
    expect(routeChain('nftables', 'service-ICOCG3IL-e2e/web/tcp/http')).toBe(true)
    expect(routeChain('nftables', 'endpoint-J6T2XOEG-e2e/web/tcp/http__10.88.0.5/9090')).toBe(true)
    for (const base of ['firewall-check', 'service-endpoints-check', 'service-ips', 'nat-prerouting']) expect(routeChain('nftables', base), base).toBe(false)
    expect(routeChain('iptables-nft', 'KUBE-SVC-ABC')).toBe(true)
    expect(routeChain('iptables-nft', 'KUBE-MARK-MASQ')).toBe(false)
  })
})
