import {describe, expect, it} from 'vitest'
import {buildSvcReport} from '../../../src/svc/correlate.js'
import type {Frontend, ServiceTrace} from '../../../src/svc/types.js'
import {expectOracleKeys} from '../../helpers/corpus.js'
import {parseIptablesSave} from '../../../src/parse/iptables.js'
import {captures, rulesOf} from './captures.js'

const all = captures()
const frontendText = (f: Frontend) => `${f.kind} ${f.ip ?? '*'}:${f.port || '*'}`
const keyOf = (s: {service: string | null; protocol?: string; chain?: string | null}) => (s.service === null ? `chain ${s.chain}` : `${s.service}/${s.protocol ?? 'unknown'}`)

const SERVICE_KEYS = ['service', 'protocol', 'chain', 'frontends', 'endpoints', 'unknown', 'verdict', 'affinity', 'external_traffic_policy', 'health_check_node_port',
  'local_endpoints', 'masquerade', 'localhost_nodeport', 'frontend_dnat', 'frontend_unknown', 'frontend_otherwise', 'frontend_masquerade']
const ORACLE_KEYS = ['format', 'partial', 'skipped', 'services', 'cluster_cidr', 'masquerade_mark', 'unresolved', 'missing_chains', 'unreferenced', 'missing_entry_chains', 'not_hooked', 'counters']

function expectService(got: ServiceTrace, want: any): void {
  const label = keyOf(got)
  expectOracleKeys(want, SERVICE_KEYS, [], label)
  for (const e of want.endpoints) expectOracleKeys(e, ['addr', 'share', 'chain', 'problem'], [], `${label} endpoint`)
  expect(got.frontends.map(frontendText).sort(), `${label} frontends`).toEqual([...want.frontends].sort())
  const addr = (e: {ip: string; port: number | null}) => `${e.ip}:${e.port ?? '*'}`
  expect(got.endpoints.map(addr).sort(), `${label} endpoints`).toEqual(want.endpoints.map((e: any) => e.addr).sort())
  for (const we of want.endpoints) {
    const ge = got.endpoints.find((e) => addr(e) === we.addr)!
    expect(ge.probability, `${label} ${we.addr} share`).toBeCloseTo(we.share, 9)
    if (we.chain) expect(ge.chain, `${label} ${we.addr} chain`).toBe(we.chain)
    if (we.problem) expect(ge.problems.join('; '), `${label} ${we.addr} problem`).toContain(we.problem)
    else expect(ge.problems.filter((p) => p.includes('DNAT')), `${label} ${we.addr} no DNAT problem`).toEqual([])
  }
  const unknown = (got.unknown ?? []).reduce((s, u) => s + u.share, 0)
  expect(unknown, `${label} unknown share`).toBeCloseTo(want.unknown, 9)
  // what the endpoints get plus what stays unknown is everything the picking chain receives
  if (got.endpoints.length || unknown) expect(got.endpoints.reduce((s, e) => s + e.probability, 0) + unknown, `${label} shares sum`).toBeCloseTo(1, 9)
  expect(got.verdict.startsWith(want.verdict), `${label} verdict "${got.verdict}"`).toBe(true)
  if (want.verdict !== 'unknown') expect(got.verdict, label).not.toMatch(/unknown/)
  if (!want.endpoints.length && want.unknown) expect(got.problems.filter((p) => p.startsWith('no endpoints')), `${label}: unknown is not "no endpoints"`).toEqual([])
  if (want.chain) expect(got.chain, `${label} chain`).toBe(want.chain)
  if ('affinity' in want) expect(got.sessionAffinity?.timeoutSeconds, `${label} affinity`).toBe(want.affinity)
  else expect(got.sessionAffinity, `${label} affinity`).toBeNull()
  if (want.external_traffic_policy) expect(got.externalTrafficPolicy, `${label} ETP`).toBe(want.external_traffic_policy)
  if (want.health_check_node_port) expect(got.healthCheckNodePort, `${label} HC`).toBe(want.health_check_node_port)
  if (want.local_endpoints) expect((got.localEndpoints ?? []).map(addr), `${label} local endpoints`).toEqual(want.local_endpoints)
  if (want.masquerade) expect(got.masquerade.map((m) => m.when).sort(), `${label} masquerade`).toEqual([...want.masquerade].sort())
  if (want.localhost_nodeport) expect(got.frontends.find((f) => f.kind === 'nodePort')?.localhost, `${label} localhost`).toBe(true)
  const byText = new Map(got.frontends.map((f) => [frontendText(f), f]))
  for (const [f, share] of Object.entries<number>(want.frontend_dnat ?? {})) expect(byText.get(f)?.dnatProbability, `${label} ${f} DNAT share`).toBeCloseTo(share, 9)
  for (const [f, share] of Object.entries<number>(want.frontend_unknown ?? {})) expect(byText.get(f)?.unknownShare, `${label} ${f} unknown share`).toBeCloseTo(share, 9)
  for (const [f, target] of Object.entries<string>(want.frontend_otherwise ?? {})) expect(byText.get(f)?.otherwise?.target, `${label} ${f} otherwise`).toBe(target)
  for (const [f, whens] of Object.entries<string[]>(want.frontend_masquerade ?? {})) expect(byText.get(f)?.masqueradeWhen, `${label} ${f} masquerade`).toEqual(whens)
  // a frontend's DNAT share never exceeds what its endpoints and the unknown share can take
  for (const f of got.frontends) expect(f.dnatProbability + (f.unknownShare ?? 0), `${label} ${frontendText(f)}`).toBeLessThanOrEqual(1 + 1e-9)
}

describe('real captures against oracles written before svc ran on them', () => {
  it('has at least 15 captures, each with its source and oracle', () => {
    expect(all.length).toBeGreaterThanOrEqual(15)
    for (const c of all) expect(c.source, c.name).toMatch(/^Source: /)
  })

  for (const c of all) {
    it(c.name, () => {
      const o = c.oracle
      expectOracleKeys(o, ORACLE_KEYS, [], c.name)
      const report = buildSvcReport(rulesOf(c), null, {})
      if (o.counters) {
        // iptables-save -c: [pkts:bytes] kept apart from every rule's text
        const rules = [...parseIptablesSave(c.text).tables.values()].flatMap((t) => [...t.chains.values()].flatMap((ch) => ch.rules))
        for (const r of rules) expect([r.counters !== null, r.text.startsWith('-A ')], r.text).toEqual([true, true])
      }
      expect(report.mode, 'mode').toBe(o.format)
      expect(report.partial.length > 0, 'partial').toBe(o.partial)
      const skipped = Object.fromEntries(report.skipped.map((s) => [s.kind, {count: s.count, first_line: s.firstLine}]))
      expect(skipped, 'skipped lines').toEqual(o.skipped ?? {})
      expect(report.services.map(keyOf).sort(), 'services').toEqual((o.services ?? []).map(keyOf).sort())
      for (const want of o.services ?? []) expectService(report.services.find((s) => keyOf(s) === keyOf(want))!, want)
      if ('cluster_cidr' in o) expect(report.clusterCIDR, 'cluster CIDR').toBe(o.cluster_cidr)
      if ('masquerade_mark' in o) expect(report.masqueradeMark, 'masquerade mark').toBe(o.masquerade_mark)
      if (o.unresolved) {
        const u = (x: any) => `${x.service}|${x.ip}|${x.port}|${x.protocol}|${x.chain}`
        expect(report.unresolved.map(u).sort(), 'unresolved').toEqual(o.unresolved.map(u).sort())
      }
      if (o.format === 'iptables') {
        expect((report.missingChains ?? []).map((m) => m.chain).sort(), 'missing chains').toEqual([...o.missing_chains].sort())
        expect((report.unreferencedChains ?? []).map((m) => m.chain).sort(), 'unreferenced chains').toEqual([...o.unreferenced].sort())
        expect([...report.missingEntryChains].sort(), 'missing entry chains').toEqual([...o.missing_entry_chains].sort())
        if ('not_hooked' in o) expect(report.services.some((s) => s.verdict.startsWith('not hooked')), 'not hooked').toBe(o.not_hooked)
        // each missing chain is named once, whatever the number of jumps
        for (const m of o.missing_chains) expect(report.problems.join('\n').split(`${m} (`).length - 1, `${m} listed once`).toBe(1)
      }
      if (report.services.length === 0 && report.unresolved.length === 0) expect(report.problems.join('\n')).not.toMatch(/no kube-proxy rules found/)
      // endpoints of rules from a file are located nowhere without a snapshot or the live node's routes
      for (const s of report.services) for (const e of s.endpoints) expect([e.location, e.locationNote]).toEqual(['unknown', 'rules from a file'])
    })
  }
})
