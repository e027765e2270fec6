import {describe, expect, it} from 'vitest'
import {parseIpvsadm} from '../../../src/parse/ipvs.js'
import {parseNftText} from '../../../src/parse/nft.js'
import {kubeIpvsAddresses} from '../../../src/svc/gather.js'
import {traceIpvs} from '../../../src/svc/ipvs-trace.js'
import {traceKubeProxyNft} from '../../../src/svc/nft-trace.js'
import {expectOracleKeys} from '../../helpers/corpus.js'
import {HAVE_CORPUS, NO_CORPUS, fixtures} from './corpus.js'
import {expectServicesMatch} from './oracle.js'

/**
 * The oracle writes `kind: clusterip(kubernetes API, sessionAffinity ClientIP)` inside a flow
 * map, where YAML splits the value at its comma into a second, empty key: join it back.
 */
function rejoinKind(v: Record<string, any>): Record<string, any> {
  const out = {...v}
  for (const [key, value] of Object.entries(v)) {
    if (value !== null || !key.endsWith(')') || typeof out.kind !== 'string' || !out.kind.includes('(') || out.kind.includes(')')) continue
    out.kind = `${out.kind}, ${key}`
    delete out[key]
  }
  return out
}

const nft = fixtures('kube-proxy-nftables')
const ipvs = fixtures('ipvs')
// the nftables fixture plays the same six services as the iptables TestOverall dump: its oracle is shared
const overall = fixtures('kube-proxy-iptables').find((f) => f.name.includes('TestOverallIPTablesRules'))

describe.skipIf(!HAVE_CORPUS)('kube-proxy nftables text against the cross-backend oracle', () => {
  it('finds the corpus', () => {
    expect(nft.length, NO_CORPUS).toBeGreaterThan(0)
    expect(overall?.oracle).toBeDefined()
  })
  for (const f of nft) {
    it(f.name, () => {
      const tables = parseNftText(f.text)
      expect([...tables.keys()]).toEqual(['ip kube-proxy'])
      const traces = traceKubeProxyNft(f.text, f.name)
      expect(traces).toHaveLength(1)
      expect(traces[0].mode).toBe('nftables')
      expect(traces[0].clusterCIDR).toBe(overall!.oracle!.cluster_cidr_for_masq)
      expectServicesMatch(traces[0], overall!.oracle!.services, {nft: true})
    })
  }
})

describe.skipIf(!HAVE_CORPUS)('ipvsadm -Ln against its oracle', () => {
  it('finds the corpus', () => {
    expect(ipvs.length, NO_CORPUS).toBeGreaterThan(0)
  })
  for (const f of ipvs) {
    it(f.name, () => {
      const servers = parseIpvsadm(f.text)
      expectOracleKeys(f.oracle!, ['virtual_servers', 'forward_method'], ['note'], f.name)
      const want = (f.oracle!.virtual_servers as any[]).map(rejoinKind)
      for (const v of want) expectOracleKeys(v, ['vip', 'proto', 'sched', 'kind', 'reals', 'persistent'], ['reals_truncated'], `${f.name} ${v.vip}`)
      expect(servers.map((v) => `${v.ip}:${v.port}`)).toEqual(want.map((v) => v.vip))
      for (const [i, v] of want.entries()) {
        expect(servers[i].protocol).toBe(v.proto)
        expect(servers[i].scheduler).toBe(v.sched)
        expect(servers[i].persistentSeconds).toBe(v.persistent ?? null)
        expect(servers[i].reals.map((r) => `${r.ip}:${r.port}`)).toEqual(v.reals)
        if (/all/.test(f.oracle!.forward_method)) for (const r of servers[i].reals) expect(r.forward).toBe(f.oracle!.forward_method.split(' ')[0])
      }
      const trace = traceIpvs(f.text)
      expect(trace.services).toHaveLength(want.length)
      for (const [i, v] of want.entries()) {
        const s = trace.services[i]
        const total = s.endpoints.reduce((sum, e) => sum + e.probability, 0)
        expect(total).toBeCloseTo(1, 9)
        for (const e of s.endpoints) expect(e.probability).toBeCloseTo(1 / v.reals.length, 9)
        expect(s.sessionAffinity).toEqual(v.persistent ? {type: 'ClientIP', timeoutSeconds: v.persistent} : null)
        if (String(v.kind ?? '').startsWith('nodeport')) expect(s.frontends[0].kind).toBe('nodePort')
        if (String(v.kind ?? '').startsWith('clusterip')) expect(s.frontends[0].kind).toBe('clusterIP')
      }
      // with kube-ipvs0's addresses known, service IPs are those on it and NodePorts the rest
      const onDummy = want.filter((v) => v.kind !== 'nodeport').map((v) => v.vip.split(':')[0])
      const told = traceIpvs(f.text, 'ipvsadm -Ln', kubeIpvsAddresses(JSON.stringify([{ifname: 'kube-ipvs0', addr_info: onDummy.map((local) => ({local}))}])))
      for (const [i, v] of want.entries()) expect(told.services[i].frontends[0].kind).toBe(v.kind === 'nodeport' ? 'nodePort' : 'clusterIP')
      expect(told.notes[0]).toMatch(/not being on kube-ipvs0/)
    })
  }
})
