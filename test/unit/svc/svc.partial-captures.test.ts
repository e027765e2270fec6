// The shapes real captures take (pasted excerpts, dangling jumps, malformed rules, missing hooks), each
// on the real text of test/fixtures/captures (or a real kube-proxy dump of ../shared/corpus), sometimes
// with one line taken out or changed to make the one shape the test is about.
import {describe, expect, it} from 'vitest'
import {parseIptablesSave} from '../../../src/parse/iptables.js'
import type {Route} from '../../../src/parse/route.js'
import {buildSvcReport} from '../../../src/svc/correlate.js'
import {traceKubeProxyNft} from '../../../src/svc/nft-trace.js'
import type {ServiceTrace} from '../../../src/svc/types.js'
import {captures, rulesOf} from './captures.js'
import {HAVE_CORPUS, NO_CORPUS, fixtures} from './corpus.js'

const byName = new Map(captures().map((c) => [c.name.replace(/\.txt$/, ''), c]))
const capture = (name: string) => byName.get(name)!.text
const report = (text: string, format = 'iptables') => buildSvcReport(rulesOf({name: 'capture.txt', text, oracle: {format}}), null, {})
const service = (services: ServiceTrace[], name: string) => services.find((s) => s.service === name)!
const dropLines = (text: string, ...patterns: RegExp[]) => text.split('\n').filter((l) => !patterns.some((p) => p.test(l))).join('\n')
const overall = fixtures('kube-proxy-iptables').find((f) => f.name.includes('TestOverallIPTablesRules'))

describe('1. a jump to a chain not in the capture ends that share as unknown', () => {
  it('does not walk on past it: the next rule gets only what the missing chain did not take', () => {
    // the EKS listing with the first endpoint chain of game-2048 left out
    const text = dropLines(capture('eks-iptables-t-nat-S-nfacct'), /^-A KUBE-SEP-6RLR7GMXHKSBV5ON /, /^-N KUBE-SEP-6RLR7GMXHKSBV5ON$/)
    const s = service(report(text).services, 'game-2048/service-2048')
    expect(s.endpoints.map((e) => [`${e.ip}:${e.port}`, e.probability])).toEqual([['192.168.4.161:80', 0.5]])
    expect(s.unknown).toEqual([{chain: 'KUBE-SEP-6RLR7GMXHKSBV5ON', share: 0.5, reason: 'chain KUBE-SEP-6RLR7GMXHKSBV5ON not in the rules'}])
    for (const f of s.frontends) {
      expect(f.dnatProbability).toBe(0.5)
      expect(f.unknownShare).toBe(0.5)
    }
    expect(s.verdict).toBe('DNAT, else unknown: chain KUBE-SEP-6RLR7GMXHKSBV5ON not in the rules')
    expect(s.problems.filter((p) => /sum to|no endpoints/.test(p))).toEqual([])
  })

  it('keeps a frontend DNAT share within its endpoints and the unknown share when rules repeat (two nodes pasted together)', () => {
    const s = service(report(capture('aks-etp-local-two-nodes-grep')).services, 'default/nginx')
    const known = s.endpoints.reduce((a, e) => a + e.probability, 0) + (s.unknown ?? []).reduce((a, u) => a + u.share, 0)
    for (const f of s.frontends) expect(f.dnatProbability).toBeLessThanOrEqual(known + 1e-9)
    const lb = s.frontends.find((f) => f.kind === 'loadBalancer')!
    // KUBE-EXT's last rule (to KUBE-SVL, uncommented, so grep dropped it) is not there: the rest is unknown, not DNAT
    expect([lb.dnatProbability, lb.unknownShare, lb.otherwise]).toEqual([0, 1, null])
  })

  it('says so for every endpoint chain a service chain jumps to that is not there', () => {
    const r = report(capture('k8s-65387-svc-chains-recent'))
    expect(r.services).toHaveLength(13)
    for (const s of r.services) {
      expect(s.endpoints).toEqual([])
      expect((s.unknown ?? []).reduce((a, u) => a + u.share, 0)).toBeCloseTo(1, 12)
      expect(s.verdict).toMatch(/^unknown: no frontend in the capture leads to KUBE-SVC-/)
      expect(s.problems.some((p) => p.startsWith('no endpoints'))).toBe(false)
    }
  })
})

describe('2. text around the rules is skipped, one note per kind, and the capture is partial', () => {
  it('skips prompts and command lines of concatenated greps', () => {
    const r = report(capture('k8s-114537-grep-prompts-dnat-zero'))
    expect(r.skipped).toEqual([{kind: 'command', count: 3, firstLine: 1, example: '[root@worker1 ~]# iptables-save -t nat | grep  10.233.60.220'}])
    expect(r.notes).toContain('skipped 3 shell prompt or command lines (first at line 1: "[root@worker1 ~]# iptables-save -t nat | grep  10.233.60.220")')
    expect(r.partial).toEqual(['no *table header', 'lines that are not rules'])
  })

  it('drops a trailing // note from a rule and keeps the rule', () => {
    const dump = parseIptablesSave(capture('k3s-clusterip-grep-trailing-notes'))
    const rule = dump.tables.get('nat')!.chains.get('KUBE-SVC-RL3JAE4GN7VOGDGP')!.rules[0]
    expect(rule.text).toBe('-A KUBE-SVC-RL3JAE4GN7VOGDGP -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-46JOUSXCF6FAU35R')
    expect(rule.target?.name).toBe('KUBE-SEP-46JOUSXCF6FAU35R')
    expect(dump.skipped.find((s) => s.kind === 'note')).toMatchObject({count: 4, firstLine: 2})
  })

  it("skips the author's own # lines, and reads -c counters beside them", () => {
    const dump = parseIptablesSave(capture('k8s-85397-iptables-save-c-xlb-notes'))
    expect(dump.skipped).toEqual([{kind: 'comment', count: 2, firstLine: 1, example: "# rules for the nodeport's port"}])
    expect(dump.tables.get('nat')!.chains.get('KUBE-NODEPORTS')!.rules.map((r) => r.counters)).toEqual([{packets: 0, bytes: 0}, {packets: 0, bytes: 0}, {packets: 3, bytes: 445}])
  })

  it("reads an `nft -a` listing under its `# nft -a list ...` line, up to the author's cut", () => {
    const [trace] = traceKubeProxyNft(capture('temach-nft-a-list-table-cut'), 'capture')
    expect(trace.skipped).toEqual([
      {kind: 'command', count: 1, firstLine: 1, example: '# nft -a list table kube-proxy'},
      {kind: 'cut', count: 1, firstLine: 91, example: '....'},
    ])
    expect(trace.partial).toEqual(['lines that are not nft', "an author's cut", 'table ip kube-proxy is not closed'])
    expect(service(trace.services, 'home/http-server:mainhttp').endpoints).toHaveLength(4)
  })

  it('refuses, in one line, a file with no rule at all', () => {
    expect(() => report('[root@worker1 ~]# iptables-save | grep nothing\n# (no output)\n')).toThrow(/^capture\.txt: no iptables rule, chain or table in it \(1 command, 1 comment line\(s\) skipped\)$/)
  })
})

describe('3. malformed rules are named, not taken at face value', () => {
  it('names a DNAT with no address on its endpoint', () => {
    const s = service(report(capture('k8s-114537-grep-prompts-dnat-zero')).services, 'default/my-dep')
    expect(s.endpoints[0]).toMatchObject({ip: '', port: 0})
    expect(s.endpoints[0].problems).toEqual(['endpoint :0 (KUBE-SEP-CKROCXU3WMRQYCUN): DNAT names no address (--to-destination :0 --to-destination :0 --to-destination (nothing))'])
    expect(s.problems).toEqual(s.endpoints[0].problems)
  })

  it('names a DNAT to 0.0.0.0:0 (the same bug, another kube-proxy build)', () => {
    const text = capture('k8s-114537-grep-prompts-dnat-zero').replace(/-j DNAT --to-destination :0 .*$/m, '-j DNAT --to-destination 0.0.0.0:0')
    const [ep] = service(report(text).services, 'default/my-dep').endpoints
    expect([ep.ip, ep.port]).toEqual(['0.0.0.0', 0])
    expect(ep.problems[0]).toMatch(/DNAT to 0\.0\.0\.0, which is no endpoint/)
  })

  it('lists the services of KUBE-SVC chains when the capture has no KUBE-SERVICES, and says which entry chains are missing', () => {
    const r = report(capture('k8s-65387-svc-chains-recent'))
    expect(r.mode).toBe('iptables')
    expect(r.problems.join('\n')).not.toMatch(/no kube-proxy rules found/)
    expect(r.missingEntryChains).toEqual(['KUBE-SERVICES', 'KUBE-NODEPORTS'])
    const named = report(capture('origin-14195-svc-chains-recent-affinity'))
    expect(named.services.map((s) => s.service)).toContain('default/kubernetes:dns')
    expect(service(named.services, 'default/kubernetes:dns').sessionAffinity).toEqual({type: 'ClientIP', timeoutSeconds: 10800})
  })
})

describe('4. a missing hook is the verdict, and endpoints are those the chains give', () => {
  // the EKS listing made a whole nat table (header and COMMIT around it), kube-proxy's PREROUTING jump taken out
  const whole = (text: string) => `*nat\n${text.split('\n').slice(1).join('\n')}\nCOMMIT\n`
  const eks = capture('eks-iptables-t-nat-S-nfacct')

  it('traces a service whose nat PREROUTING does not jump to KUBE-SERVICES, and says it is not hooked', () => {
    const r = report(whole(dropLines(eks, /^-A PREROUTING -m comment --comment "kubernetes service portals"/)))
    expect(r.partial).toEqual([])
    const s = service(r.services, 'game-2048/service-2048')
    expect(s.verdict).toBe('not hooked: nat PREROUTING does not jump to KUBE-SERVICES')
    expect(s.endpoints.map((e) => [`${e.ip}:${e.port}`, e.probability])).toEqual([['192.168.2.92:80', 0.5], ['192.168.4.161:80', 0.5]])
    expect(s.problems.filter((p) => p.startsWith('no endpoints'))).toEqual([])
    for (const f of s.frontends) expect([f.notHooked, f.dnatProbability]).toEqual(['not hooked: nat PREROUTING does not jump to KUBE-SERVICES', 0])
    expect(r.problems).toContain('nat PREROUTING does not jump to KUBE-SERVICES: kube-proxy rules are not hooked in')
  })

  it('says a NodePort is not hooked when KUBE-SERVICES does not jump to KUBE-NODEPORTS', () => {
    const s = service(report(whole(dropLines(eks, /^-A KUBE-SERVICES .*-j KUBE-NODEPORTS$/))).services, 'game-2048/service-2048')
    const nodePort = s.frontends.find((f) => f.kind === 'nodePort')!
    expect(nodePort.notHooked).toBe('not hooked: nat KUBE-SERVICES does not jump to KUBE-NODEPORTS')
    expect(s.frontends.find((f) => f.kind === 'clusterIP')!.dnatProbability).toBe(1)
    expect(s.verdict).toBe('DNAT')
  })

  it('traces a NodePort from KUBE-NODEPORTS when the capture has no KUBE-SERVICES -> KUBE-NODEPORTS rule (partial: not a verdict)', () => {
    for (const name of ['k3s-nodeport-grep-trailing-notes', 'weave-3568-grep-xlb-no-local-endpoints']) {
      const s = report(capture(name)).services[0]
      const nodePort = s.frontends.find((f) => f.kind === 'nodePort')!
      expect(nodePort.notHooked, name).toBeUndefined()
      expect(nodePort.otherwise?.comment ?? '', name).not.toMatch(/not DNATed/)
    }
    expect(report(capture('k3s-nodeport-grep-trailing-notes')).services[0].frontends[0].dnatProbability).toBe(1)
  })

  it.skipIf(!HAVE_CORPUS)('says not hooked for kube-proxy\'s own dump with the kernel\'s PREROUTING and OUTPUT declared but not jumping', () => {
    expect(overall, NO_CORPUS).toBeDefined()
    const text = overall!.text.replace(/^\*nat$/m, '*nat\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]')
    const r = report(text)
    const s = service(r.services, 'ns4/svc4:p80')
    expect(s.verdict).toMatch(/^not hooked: nat PREROUTING/)
    expect(s.endpoints.map((e) => e.ip)).toEqual(['10.180.0.4', '10.180.0.5'])
    expect(r.problems).toContain('nat OUTPUT does not jump to KUBE-SERVICES: connections from the node itself are not DNATed')
  })
})

describe('5. chains nothing jumps to, for every family, and missing chains once each', () => {
  const unreferenced = (text: string) => (report(text).unreferencedChains ?? []).map((c) => c.chain)

  it('names unreferenced KUBE-SVC, SVL, EXT, XLB and SEP chains', () => {
    expect(unreferenced(capture('aks-etp-local-two-nodes-grep'))).toEqual(['KUBE-SVL-2CMXP7HKUVJN7L6M'])
    expect(unreferenced(capture('origin-14195-svc-chains-recent-affinity'))).toHaveLength(7)
    expect(unreferenced(capture('k8s-18259-root-prompt-iptables-1.4.21-old-mark.txt'.replace('.txt', '')))).toContain('KUBE-SEP-CT24JF4JAT2YBPCZ')
    expect(unreferenced(dropLines(capture('aks-lb-without-dport-grep'), /^-A KUBE-SERVICES /))).toEqual(['KUBE-EXT-2CMXP7HKUVJN7L6M'])
    expect(unreferenced(dropLines(capture('weave-3568-grep-xlb-no-local-endpoints'), /-j KUBE-XLB-/))).toEqual(['KUBE-XLB-ICKQE4PTG2WGVXBF'])
    const sep = report(capture('k8s-18259-root-prompt-iptables-1.4.21-old-mark')).problems.find((p) => p.startsWith('nat KUBE-SEP chains not jumped to'))
    expect(sep).toMatch(/KUBE-SEP-CT24JF4JAT2YBPCZ \(DNAT 172\.20\.37\.2:80, default\/nginx2:\)/)
  })

  it.skipIf(!HAVE_CORPUS)('names an unreferenced KUBE-FW chain', () => {
    const text = dropLines(overall!.text, /^-A KUBE-SERVICES .*-j KUBE-FW-/)
    expect(unreferenced(text)).toEqual([expect.stringMatching(/^KUBE-FW-/)])
  })

  it('lists each chain rules jump to but the capture lacks once, with how many jumps', () => {
    const r = report(capture('k8s-65387-svc-chains-recent'))
    expect(r.missingChains?.find((m) => m.chain === 'KUBE-SEP-4CZIQX2RWSGSJM5N')).toEqual({table: 'nat', chain: 'KUBE-SEP-4CZIQX2RWSGSJM5N', jumps: 2, firstLine: 14})
    const line = r.problems.find((p) => p.startsWith('jumps to chains not in the rules read'))!
    expect(line.split('KUBE-SEP-4CZIQX2RWSGSJM5N').length - 1).toBe(1)
    expect(r.problems.filter((p) => p.includes('KUBE-SEP-4CZIQX2RWSGSJM5N'))).toHaveLength(1)
  })
})

describe('6. nftables: an external chain that marks every packet masquerades "always"', () => {
  it.skipIf(!HAVE_CORPUS)('reads the unconditional mark-for-masquerade jump of external-* chains per frontend', () => {
    const nft = fixtures('kube-proxy-nftables')[0]
    expect(nft, NO_CORPUS).toBeDefined()
    const [trace] = traceKubeProxyNft(nft.text, nft.name)
    const svc3 = service(trace.services, 'ns3/svc3:p80')
    expect(svc3.frontends.find((f) => f.kind === 'nodePort')?.masqueradeWhen).toEqual(['always'])
    expect(svc3.frontends.find((f) => f.kind === 'clusterIP')?.masqueradeWhen).toBeUndefined()
    expect(svc3.masquerade).toEqual(expect.arrayContaining([{chain: 'external-4AT6LBPK-ns3/svc3/tcp/p80', when: 'always'}]))
    // Local policy: only local sources are masqueraded
    const svc2 = service(trace.services, 'ns2/svc2:p80')
    expect(svc2.frontends.find((f) => f.kind === 'nodePort')?.masqueradeWhen).toEqual(['from a local address'])
  })

  it('does the same for iptables KUBE-EXT chains (a capture from AKS)', () => {
    const s = service(report(capture('aks-lb-without-dport-grep')).services, 'default/nginx')
    expect(s.frontends[0].masqueradeWhen).toEqual(['always'])
  })
})

describe('7. endpoints of rules from a file are not located on this machine', () => {
  const route = (destination: string, dev: string, via: string | null = null): Route => ({destination, dev, via, scope: null, table: 'main', type: 'unicast', protocol: null, prefsrc: null})
  const rules = rulesOf({name: 'capture.txt', text: capture('eks-iptables-t-nat-S-nfacct'), oracle: {format: 'iptables'}})

  it('says unknown (rules from a file) without a network to locate them in', () => {
    const r = buildSvcReport(rules, null, {name: 'service-2048'})
    for (const e of r.services[0].endpoints) expect([e.location, e.locationNote, e.route]).toEqual(['unknown', 'rules from a file', null])
    expect(r.notes.some((n) => n.startsWith('endpoint locations unknown (rules from a file)'))).toBe(true)
  })

  it("locates them with the routes it is given (a snapshot's, or this node's on request)", () => {
    const r = buildSvcReport(rules, {routes: [route('0.0.0.0/0', 'eth0', '192.168.0.1')], pods: []}, {name: 'service-2048'})
    for (const e of r.services[0].endpoints) expect([e.location, e.locationNote]).toEqual(['remote', undefined])
  })
})
