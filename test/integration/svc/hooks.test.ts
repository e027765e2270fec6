// Kernel states where kube-proxy's chains are there but not hooked in (as after a partial restore or a
// hand edit), made in a netns this test owns and read back with the real iptables-save: svc must list the
// endpoints the chains give and say which hook is missing, not "no endpoints". The same output, pasted with
// a prompt and cut short, must read as a partial capture.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parseIptablesSave} from '../../../src/parse/iptables.js'
import {buildSvcReport} from '../../../src/svc/correlate.js'
import {gatherKubeProxyRules} from '../../../src/svc/gather.js'
import {traceIptables} from '../../../src/svc/iptables-trace.js'
import type {ServiceTrace} from '../../../src/svc/types.js'
// @ts-expect-error plain JS generator shared with the benchmark
import {kubeProxyRestore} from '../../../bench/svc-gen.mjs'
import {IS_ROOT, Netns, NetnsHost, have, netnsName} from './netns.js'

const usable = IS_ROOT && (await have('iptables-restore')) && (await have('iptables-save')) && (await have('ip'))
if (!usable) console.warn('svc hook tests need root, ip, iptables-restore and iptables-save: skipped')

const SERVICES = [
  {namespace: 'shop', name: 'web', portName: 'http', protocol: 'tcp', clusterIP: '10.96.50.1', port: 80, nodePort: 30080, endpoints: [{ip: '10.254.1.2', port: 8080}, {ip: '10.254.2.2', port: 8080}]},
  {namespace: 'shop', name: 'db', portName: 'pg', protocol: 'tcp', clusterIP: '10.96.50.2', port: 5432, endpoints: [{ip: '10.254.3.2', port: 5432}]},
]
const PREROUTING_HOOK = ['-t', 'nat', '-D', 'PREROUTING', '-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES']
const NODEPORTS_HOOK = ['-t', 'nat', '-D', 'KUBE-SERVICES', '-m', 'comment', '--comment', 'kubernetes service nodeports; NOTE: this must be the last rule in this chain', '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'KUBE-NODEPORTS']

describe.skipIf(!usable)('kube-proxy chains that the kernel hooks do not reach', () => {
  let ns: Netns
  const web = (services: ServiceTrace[]) => services.find((s) => s.service === 'shop/web:http')!

  beforeAll(async () => {
    ns = await Netns.create(netnsName('hooks'))
    await ns.must(['iptables-restore'], kubeProxyRestore(SERVICES, {hooks: true}))
  })
  afterAll(async () => {
    await ns?.delete()
  })

  const saved = async () => ns.must(['iptables-save'])

  it('traces the whole rule set as DNAT while it is hooked', async () => {
    const report = buildSvcReport(await gatherKubeProxyRules(new NetnsHost(ns)), null, {name: 'web', namespace: 'shop'})
    const s = web(report.services)
    expect(s.verdict).toBe('DNAT')
    expect(s.frontends.map((f) => [f.kind, f.dnatProbability, f.notHooked])).toEqual([['clusterIP', 1, undefined], ['nodePort', 1, undefined]])
    expect(s.path[0].chain).toBe('PREROUTING')
  })

  it('says "not hooked" when nat PREROUTING no longer jumps to KUBE-SERVICES, and still lists the endpoints', async () => {
    await ns.must(['iptables', ...PREROUTING_HOOK])
    try {
      const text = await saved()
      expect(text).not.toMatch(/-A PREROUTING .*-j KUBE-SERVICES/)
      const trace = traceIptables(parseIptablesSave(text))
      const s = web(trace.services)
      expect(s.verdict).toBe('not hooked: nat PREROUTING does not jump to KUBE-SERVICES')
      expect(s.endpoints.map((e) => [`${e.ip}:${e.port}`, e.probability])).toEqual([['10.254.1.2:8080', 0.5], ['10.254.2.2:8080', 0.5]])
      expect(s.problems.filter((p) => p.startsWith('no endpoints'))).toEqual([])
      for (const f of s.frontends) expect([f.dnatProbability, f.notHooked]).toEqual([0, 'not hooked: nat PREROUTING does not jump to KUBE-SERVICES'])
      expect(trace.problems).toContain('nat PREROUTING does not jump to KUBE-SERVICES: kube-proxy rules are not hooked in')
      // OUTPUT still jumps: connections from the node itself are still DNATed, so no problem about OUTPUT
      expect(trace.problems.some((p) => p.startsWith('nat OUTPUT'))).toBe(false)
    } finally {
      await ns.must(['iptables', '-t', 'nat', '-I', 'PREROUTING', '1', ...PREROUTING_HOOK.slice(4)])
    }
  })

  it('says a NodePort is not hooked when KUBE-SERVICES no longer jumps to KUBE-NODEPORTS', async () => {
    await ns.must(['iptables', ...NODEPORTS_HOOK])
    try {
      const s = web(traceIptables(parseIptablesSave(await saved())).services)
      const [clusterIP, nodePort] = s.frontends
      expect([clusterIP.kind, clusterIP.dnatProbability, clusterIP.notHooked]).toEqual(['clusterIP', 1, undefined])
      expect([nodePort.kind, nodePort.dnatProbability, nodePort.notHooked]).toEqual(['nodePort', 0, 'not hooked: nat KUBE-SERVICES does not jump to KUBE-NODEPORTS'])
      expect(s.verdict).toBe('DNAT')
      expect(s.endpoints).toHaveLength(2)
    } finally {
      await ns.must(['iptables', '-t', 'nat', '-A', 'KUBE-SERVICES', ...NODEPORTS_HOOK.slice(4)])
    }
  })

  it('reads the same output pasted under its prompt and cut short as a partial capture: unknown, not "no endpoints"', async () => {
    const lines = (await saved()).split('\n')
    // cut before whichever of shop/web's two DNAT rules iptables-save prints last, as a paste that stops mid-way
    const dnat = ['10.254.1.2', '10.254.2.2'].map((ip) => lines.findIndex((l) => l.includes(`-j DNAT --to-destination ${ip}:8080`)))
    const cut = Math.max(...dnat)
    const kept = ['10.254.1.2', '10.254.2.2'][dnat.indexOf(Math.min(...dnat))]
    const pasted = ['[root@node ~]# iptables-save', ...lines.slice(0, cut)].join('\n')
    const report = buildSvcReport({iptables: {backend: 'file', reason: 'pasted.txt', ipv4: pasted, ipv6: ''}, nft: null, ipvs: null, problems: []}, null, {name: 'web'})
    const s = web(report.services)
    expect(report.partial).toEqual(expect.arrayContaining(['lines that are not rules', 'no COMMIT at the end']))
    expect(s.verdict).not.toMatch(/not hooked/)
    expect(s.problems.filter((p) => p.startsWith('no endpoints'))).toEqual([])
    const unknown = (s.unknown ?? []).reduce((a, u) => a + u.share, 0)
    expect(unknown).toBeGreaterThan(0)
    expect(unknown + s.endpoints.reduce((a, e) => a + e.probability, 0)).toBeCloseTo(1, 9)
    // the service chain's jumps printed before the cut: the endpoint whose DNAT survived keeps its half
    const svcJumps = lines.findIndex((l) => /^-A KUBE-SVC-\S+ .*shop\/web:http -> /.test(l))
    if (svcJumps < cut) expect(s.endpoints.map((e) => [e.ip, e.probability])).toEqual([[kept, 0.5]])
    else expect(s.unknown?.[0].reason).toMatch(/rules are in the capture|not in the rules|not in the capture/)
  })
})
