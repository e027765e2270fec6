import {describe, expect, it} from 'vitest'
import {parseIptablesSave} from '../../../src/parse/iptables.js'
import {traceIptables} from '../../../src/svc/iptables-trace.js'
import {expectOracleKeys} from '../../helpers/corpus.js'
import {HAVE_CORPUS, NO_CORPUS, fixtures} from './corpus.js'
import {expectServicesMatch} from './oracle.js'

const generated = fixtures('kube-proxy-iptables')
const real = fixtures('real-iptables-save')

describe.skipIf(!HAVE_CORPUS)('kube-proxy iptables dumps against their oracles', () => {
  it('finds the corpus', () => {
    expect(generated.length, NO_CORPUS).toBeGreaterThan(0)
  })

  for (const f of generated) {
    it(f.name, () => {
      const dump = parseIptablesSave(f.text)
      const trace = traceIptables(dump)
      const o = f.oracle
      expect(o, `${f.name} has an oracle`).toBeDefined()
      expectOracleKeys(o!, ['fixture', 'masq_mark', 'cluster_cidr_for_masq', 'services', 'deleted_chains', 'dangling_jumps', 'portals', 'proxy_mode'], ['format', 'note', 'partial_restore'], f.name)
      expect(o!.fixture, 'the oracle names its fixture').toBe(f.name)
      if (o!.proxy_mode) expect(o!.proxy_mode.split(' ')[0]).toBe(trace.mode)
      for (const d of o!.dangling_jumps ?? []) expectOracleKeys(d, ['service', 'ip', 'port', 'protocol', 'chain'], [], `${f.name} dangling jump`)
      for (const p of o!.portals ?? []) expectOracleKeys(p, ['service', 'protocol', 'ip', 'port', 'dnat'], [], `${f.name} portal`)
      if (o!.masq_mark) expect(trace.masqueradeMark).toBe(o!.masq_mark)
      if (o!.cluster_cidr_for_masq) expect(trace.clusterCIDR).toBe(o!.cluster_cidr_for_masq)
      if (o!.services) expectServicesMatch(trace, o!.services)
      if (o!.deleted_chains) expect([...dump.tables.values()].flatMap((t) => t.deleted).sort()).toEqual([...o!.deleted_chains].sort())
      if (o!.dangling_jumps) {
        const key = (d: any) => `${d.service}|${d.ip}|${d.port}|${d.protocol}|${d.chain}`
        expect(trace.unresolved.map(key).sort()).toEqual(o!.dangling_jumps.map(key).sort())
        for (const d of o!.dangling_jumps) expect(trace.problems.some((p) => p.includes(d.chain) && p.includes('does not exist'))).toBe(true)
      }
      if (o!.portals) {
        expect(trace.mode).toBe('userspace')
        expect(trace.services).toHaveLength(o!.portals.length)
        for (const p of o!.portals) {
          const s = trace.services.find((x) => x.service === p.service && x.protocol === p.protocol)
          expect(s, `portal ${p.service}`).toBeDefined()
          expect(s!.frontends.map((x) => `${x.ip}:${x.port}`)).toContain(`${p.ip}:${p.port}`)
          expect(s!.endpoints.map((e) => `${e.ip}:${e.port}`)).toEqual([p.dnat])
          expect(s!.endpoints[0].probability).toBe(1)
        }
      }
      // every rule text survives, and no problem is raised that the oracle does not expect
      if (!o!.dangling_jumps && !o!.portals) expect(trace.problems.filter((p) => !p.startsWith('no endpoints'))).toEqual([])
    })
  }
})

describe.skipIf(!HAVE_CORPUS)('the quick target read agrees with the full parse', () => {
  for (const f of [...generated, ...real]) {
    it(f.name, () => {
      const quick = [...parseIptablesSave(f.text).tables.values()].flatMap((t) => [...t.chains.values()].flatMap((c) => c.rules.map((r) => r.targetName)))
      const full = [...parseIptablesSave(f.text).tables.values()].flatMap((t) => [...t.chains.values()].flatMap((c) => c.rules.map((r) => r.target?.name ?? null)))
      expect(quick).toEqual(full)
    })
  }
})

describe.skipIf(!HAVE_CORPUS)('real iptables-save excerpts parse and say what they miss', () => {
  it('finds the corpus', () => {
    expect(real.length, NO_CORPUS).toBeGreaterThan(0)
  })

  for (const f of real) {
    it(f.name, () => {
      const dump = parseIptablesSave(f.text)
      const trace = traceIptables(dump)
      const ruleLines = f.text.split('\n').filter((l) => /^(\[\d+:\d+\]\s+)?-A /.test(l))
      const rules = [...dump.tables.values()].flatMap((t) => [...t.chains.values()].flatMap((c) => c.rules))
      expect(rules).toHaveLength(ruleLines.length)
      const truncated = /TRUNC/i.test(f.source)
      const headerless = !/^\*/m.test(f.text)
      if (headerless) expect(trace.notes.some((n) => n.includes('no *table header'))).toBe(true)
      // a cut excerpt is a partial capture: no header, or no COMMIT
      if (truncated && !/^COMMIT$/m.test(f.text)) expect(dump.partial.some((p) => /no \*table header|no COMMIT/.test(p))).toBe(true)
      // counters are stripped off the rule and kept apart
      if (/^\[\d+:\d+\]/m.test(f.text)) {
        for (const r of rules) {
          expect(r.counters).not.toBeNull()
          expect(r.text.startsWith('-A ')).toBe(true)
        }
      }
      // iptables-save prints single addresses with /32
      for (const r of rules) if (r.source) expect(r.source.cidr).toMatch(/\/\d+$/)
      // chains an excerpt shows but never jumps to are named as problems
      const nat = dump.tables.get('nat')
      if (nat) {
        const targets = new Set([...nat.chains.values()].flatMap((c) => c.rules.map((r) => r.target?.name)))
        for (const c of nat.chains.values()) {
          if (/^KUBE-(SEP|SVC)-/.test(c.name) && !targets.has(c.name)) expect(trace.problems.some((p) => p.includes(c.name) && p.includes('not jumped to'))).toBe(true)
        }
        // every DNAT in the excerpt is either traced to a frontend or flagged through its chain
        for (const r of rules.filter((x) => x.target?.name === 'DNAT' && x.chain.startsWith('KUBE-SEP-'))) {
          const traced = trace.services.some((s) => s.endpoints.some((e) => e.chain === r.chain))
          expect(traced || trace.problems.some((p) => p.includes(r.chain))).toBe(true)
        }
      }
      if (!nat?.chains.has('KUBE-SERVICES') && nat) expect(trace.notes.some((n) => n.includes('KUBE-SERVICES not in this input'))).toBe(true)
      if (!nat) expect(trace.notes.some((n) => n.includes('no nat table'))).toBe(true)
    })
  }
})
