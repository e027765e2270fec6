// svc asks nft for kube-proxy's own tables only: on a node where iptables-nft holds thousands of
// rules, `nft list ruleset` lists them all too (51 s at 10k services), `nft list table ip
// kube-proxy` does not. Real nft in a netns this test makes.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {RunResult} from '../../../src/host/host.js'
import {gatherKubeProxyRules} from '../../../src/svc/gather.js'
import {buildSvcReport} from '../../../src/svc/correlate.js'
import {IS_ROOT, Netns, NetnsHost, have, netnsName} from './netns.js'

const HAVE = IS_ROOT && (await have('nft')) && (await have('iptables-nft'))
if (!HAVE) console.warn('svc nft-tables test needs root, nft and iptables-nft: skipped')

/** The netns host, and every program it was asked to run. */
class AskedHost extends NetnsHost {
  readonly asked: string[][] = []
  override async run(argv: string[]): Promise<RunResult | undefined> {
    this.asked.push(argv)
    return super.run(argv)
  }
}

const family = (f: 'ip' | 'ip6', ip: string, port: number) => [
  `add table ${f} kube-proxy`,
  `add chain ${f} kube-proxy services`,
  `add chain ${f} kube-proxy service-ABCDEFGH-ns1/web/tcp/http`,
  `add chain ${f} kube-proxy endpoint-HGFEDCBA-ns1/web/tcp/http__${f === 'ip' ? '10.180.0.7/80' : 'fd00--7/80'}`,
  `add map ${f} kube-proxy service-ips { type ${f === 'ip' ? 'ipv4_addr' : 'ipv6_addr'} . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }`,
  `add rule ${f} kube-proxy services ${f} daddr . meta l4proto . th dport vmap @service-ips`,
  `add rule ${f} kube-proxy service-ABCDEFGH-ns1/web/tcp/http numgen random mod 1 vmap { 0 : goto endpoint-HGFEDCBA-ns1/web/tcp/http__${f === 'ip' ? '10.180.0.7/80' : 'fd00--7/80'} }`,
  `add rule ${f} kube-proxy endpoint-HGFEDCBA-ns1/web/tcp/http__${f === 'ip' ? '10.180.0.7/80' : 'fd00--7/80'} meta l4proto tcp dnat to ${f === 'ip' ? '10.180.0.7:80' : '[fd00::7]:80'}`,
  `add element ${f} kube-proxy service-ips { ${ip} . tcp . ${port} : goto service-ABCDEFGH-ns1/web/tcp/http }`,
]

describe.skipIf(!HAVE)('svc reads kube-proxy nft tables by name', () => {
  let ns: Netns
  beforeAll(async () => {
    ns = await Netns.create(netnsName('nfttab'))
    // an iptables-nft rule outside kube-proxy's tables: it must not be read
    await ns.must(['iptables-nft', '-t', 'nat', '-A', 'OUTPUT', '-d', '192.0.2.1/32', '-j', 'RETURN'])
  })
  afterAll(async () => {
    await ns?.delete()
  })

  it('no kube-proxy table: no nft rules, never the whole ruleset, and not even the table listing', async () => {
    const host = new AskedHost(ns)
    const rules = await gatherKubeProxyRules(host)
    expect(rules.nft).toBeNull()
    // `nft list table` dumps every chain of every family first; `list sets table` says "not there" for less
    const nft = host.asked.filter((a) => a[0] === 'nft')
    expect(nft).toEqual([['nft', 'list', 'sets', 'table', 'ip', 'kube-proxy'], ['nft', 'list', 'sets', 'table', 'ip6', 'kube-proxy']])
  })

  it('ip and ip6 kube-proxy tables are both read and traced; iptables-nft rules are not', async () => {
    await ns.must(['nft', '-f', '-'], [...family('ip', '10.96.0.50', 80), ...family('ip6', 'fd00:96::50', 80)].join('\n') + '\n')
    const host = new AskedHost(ns)
    const rules = await gatherKubeProxyRules(host)
    expect(host.asked.some((a) => a.includes('ruleset'))).toBe(false)
    expect(rules.nft?.source).toBe('nft -j list table')
    expect(rules.nft?.text).not.toContain('192.0.2.1')
    const report = buildSvcReport({...rules, iptables: null}, {routes: [], pods: []}, {name: 'web', namespace: 'ns1'})
    const traced = report.services.map((s) => [s.frontends.map((f) => f.ip), s.endpoints.map((e) => e.ip)])
    expect(traced).toEqual(expect.arrayContaining([[['10.96.0.50'], ['10.180.0.7']], [['fd00:96::50'], ['fd00::7']]]))
  })
})
