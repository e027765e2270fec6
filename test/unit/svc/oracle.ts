import {expect} from 'vitest'
import type {ProxyTrace, ServiceTrace} from '../../../src/svc/types.js'
import {expectOracleKeys} from '../../helpers/corpus.js'
import {oracleVerdict} from './corpus.js'

function find(trace: ProxyTrace, name: string, protocol: string): ServiceTrace {
  const found = trace.services.filter((s) => s.service === name && s.protocol === protocol)
  expect(found, `service ${name}/${protocol} traced once`).toHaveLength(1)
  return found[0]
}

/** Compares a trace with a corpus oracle's `services:` list, key by key, whatever the backend. */
export interface MatchOptions {
  /** nftables mode: externalIP and LoadBalancer IPs both go through external-* (only firewall-ips tells an LB), verdicts live in maps */
  nft?: boolean
}

export function expectServicesMatch(trace: ProxyTrace, services: any[], options: MatchOptions = {}): void {
  expect(trace.services.map((s) => `${s.service}/${s.protocol}`).sort()).toEqual(services.map((s) => `${s.service}/${s.protocol}`).sort())
  for (const want of services) {
    const label = want.service
    expectOracleKeys(want, ['service', 'protocol', 'frontends', 'endpoints', 'session_affinity', 'verdict', 'lb_other_sources', 'external_traffic_policy', 'internal_traffic_policy', 'health_check_node_port', 'external_path'], [], `service ${label}`)
    for (const f of want.frontends) expectOracleKeys(f, ['kind', 'ip', 'port', 'via', 'source_ranges'], [], `service ${label} frontend`)
    for (const e of want.endpoints) expectOracleKeys(e, ['addr', 'probability', 'rule_probability'], [], `service ${label} endpoint`)
    if (want.session_affinity) expectOracleKeys(want.session_affinity, ['type', 'timeout_seconds'], [], `service ${label} session_affinity`)
    const got = find(trace, want.service, want.protocol)
    const kindOf = (f: any) => (options.nft && f.kind === 'loadBalancer' && !f.via ? 'externalIP' : f.kind)
    const frontends = (f: any) => `${kindOf(f)}|${f.ip ?? null}|${f.port}`
    expect(got.frontends.map(frontends).sort(), `${label} frontends`).toEqual(want.frontends.map(frontends).sort())
    for (const wf of want.frontends) {
      const gf = got.frontends.find((f) => frontends(f) === frontends(wf))!
      // chain names differ by backend: KUBE-FW-<hash> in iptables, firewall-<hash>-ns/svc/proto/port in nftables
      if (wf.via !== undefined) expect(gf.via, `${label} ${wf.ip} via`).toMatch(options.nft ? /^firewall-[A-Z0-9]{8}-/ : new RegExp(`^${wf.via}$`))
      if (wf.source_ranges !== undefined) expect(gf.sourceRanges, `${label} ${wf.ip} source ranges`).toEqual(wf.source_ranges)
    }
    const addr = (e: {ip: string; port: number | null}) => `${e.ip}:${e.port}`
    expect(got.endpoints.map(addr).sort(), `${label} endpoints`).toEqual(want.endpoints.map((e: any) => e.addr).sort())
    for (const we of want.endpoints) {
      const ge = got.endpoints.find((e) => addr(e) === we.addr)!
      expect(ge.probability, `${label} ${we.addr} probability`).toBeCloseTo(we.probability, 9)
      if ('rule_probability' in we && !options.nft) {
        if (we.rule_probability === null) expect(ge.ruleProbability, `${label} ${we.addr} rule probability`).toBeNull()
        else expect(ge.ruleProbability, `${label} ${we.addr} rule probability`).toBeCloseTo(we.rule_probability, 9)
      }
    }
    const sum = got.endpoints.reduce((s, e) => s + e.probability, 0)
    if (got.endpoints.length) expect(sum, `${label} probabilities sum`).toBeCloseTo(1, 9)
    if (want.session_affinity) {
      expect(got.sessionAffinity, `${label} affinity`).toEqual({type: want.session_affinity.type, timeoutSeconds: want.session_affinity.timeout_seconds})
    } else {
      expect(got.sessionAffinity, `${label} affinity`).toBeNull()
    }
    if (want.verdict) {
      const v = oracleVerdict(want.verdict)
      const f = got.frontends.find((x) => x.kind === 'clusterIP')!
      if (options.nft) expect(f.otherwise?.target, `${label} verdict`).toBe(v.target)
      else expect(f.otherwise, `${label} verdict`).toMatchObject(v)
      expect(got.verdict.startsWith(v.target), `${label} verdict text ${got.verdict}`).toBe(true)
      expect(got.problems.some((p) => p.startsWith('no endpoints')), `${label} flags no endpoints`).toBe(true)
    } else {
      expect(got.verdict, `${label} verdict`).toBe('DNAT')
    }
    if (want.lb_other_sources) {
      const v = oracleVerdict(want.lb_other_sources)
      const lb = got.frontends.find((f) => f.kind === 'loadBalancer')!
      if (options.nft) expect(lb.otherwise?.target, `${label} LB other sources`).toBe(v.target)
      else expect(lb.otherwise, `${label} LB other sources`).toMatchObject(v)
      expect(lb.dnatWhen.length, `${label} LB allowed sources DNATed`).toBeGreaterThan(0)
    }
    if (want.external_traffic_policy) expect(got.externalTrafficPolicy, `${label} ETP`).toBe(want.external_traffic_policy)
    if (want.internal_traffic_policy) expect(got.internalTrafficPolicy, `${label} ITP`).toBe(want.internal_traffic_policy)
    if (want.health_check_node_port && !options.nft) expect(got.healthCheckNodePort, `${label} HC node port`).toBe(want.health_check_node_port)
    if (want.external_traffic_policy === 'Local' && want.endpoints.length && /DROP/.test(want.external_path ?? '')) {
      // no local endpoints: outside traffic to external frontends is dropped by the filter table
      for (const f of got.frontends.filter((x) => x.kind !== 'clusterIP')) {
        expect(f.dnatProbability, `${label} ${f.kind} unconditional DNAT`).toBe(0)
        expect(f.otherwise?.target, `${label} ${f.kind} otherwise`).toBe('DROP')
      }
    }
  }
}
