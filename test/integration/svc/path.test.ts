// svc NAME on the nf_tables backend reads only the chains on the service's path
// (`iptables-nft -t TABLE -S CHAIN`), never the whole save, and answers exactly as the whole
// save does. kube-proxy-shaped rules (bench/svc-gen.mjs) loaded with the real iptables-nft-restore
// into a netns this test makes.
import {mkdtempSync, rmSync, symlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {FedProgram, RunOptions, RunResult, FedListeners} from '../../../src/host/host.js'
import {spawnFed} from '../../../src/host/fed.js'
import {type SvcQuery, buildSvcReport, queryHint} from '../../../src/svc/correlate.js'
import {gatherKubeProxyRules} from '../../../src/svc/gather.js'
import {listerArgv} from '../../../src/svc/listing-stream.js'
// @ts-expect-error plain JS generator shared with the benchmark
import {kubeProxyRestore, syntheticServices} from '../../../bench/svc-gen.mjs'
import {IS_ROOT, Netns, NetnsHost, have, netnsName} from './netns.js'

const HAVE = IS_ROOT && (await have('iptables-nft-restore'))
if (!HAVE) console.warn('svc path test needs root and iptables-nft-restore: skipped')

/**
 * A live host (a root prefix) whose programs run in the netns, as do its reads of /proc/net (the
 * netns's own); keeps every argv it ran.
 */
class LiveNetnsHost extends NetnsHost {
  readonly root = '/'
  /** Every program run, a listing xargs runs as its own argv. */
  readonly asked: string[][] = []
  /** Process starts nodedoc made (an xargs is one). */
  starts = 0
  constructor(private readonly netns: Netns) {
    super(netns)
  }
  override async run(argv: string[], options?: RunOptions): Promise<RunResult | undefined> {
    this.starts++
    if (argv[0] !== 'xargs') this.asked.push(argv)
    else {
      const items = (options?.input ?? '').split('\0').slice(0, -1)
      for (let i = 0; i < items.length; i += 4) this.asked.push([argv.at(-1)!, ...items.slice(i, i + 4)])
    }
    return super.run(argv, options)
  }
  override async readFile(path: string): Promise<string | undefined> {
    if (!path.startsWith('/proc/net/')) return undefined
    const r = await this.netns.exec(['cat', path])
    return r.exitCode === 0 ? r.stdout : undefined
  }
  override async stat(path: string) {
    return path.startsWith('/proc/net/') && (await this.readFile(path)) !== undefined ? {kind: 'file' as const, size: 0, mtimeMs: 0, ino: 0} : undefined
  }
}

/** The same, whose long-lived programs (the listing streams) run in the netns too; counts them and their ends. */
class StreamNetnsHost extends LiveNetnsHost {
  /** Streams started, and how many have ended. */
  readonly streams: string[][] = []
  /** Every line written to a stream. */
  readonly written: string[] = []
  ended = 0
  constructor(private readonly inside: Netns) {
    super(inside)
  }
  feed(argv: string[], listeners: FedListeners): FedProgram {
    this.streams.push(argv)
    const program = spawnFed(['ip', 'netns', 'exec', this.inside.name, ...argv], {
      stdout: listeners.stdout,
      exit: (code) => {
        this.ended++
        listeners.exit(code)
      },
    })
    return {
      write: (text) => {
        this.written.push(...text.split('\n').slice(0, -1))
        program.write(text)
      },
      close: () => program.close(),
      kill: () => program.kill(),
    }
  }
}

/** What the kernel holds in the netns, as nft and iptables-nft-save print it (the save's dated comments left out). */
async function ruleset(ns: Netns): Promise<string> {
  const save = await ns.must(['iptables-nft-save'])
  return (await ns.must(['nft', 'list', 'ruleset'])) + '\n' + save.replace(/^#.*$\n?/gm, '')
}

const services = syntheticServices(300) as Array<{namespace: string; name: string; clusterIP: string; nodePort?: number; endpoints: unknown[]}>

describe.skipIf(!HAVE)('svc NAME reads the chains on its path', () => {
  let ns: Netns
  beforeAll(async () => {
    ns = await Netns.create(netnsName('path'))
    // kube-proxy's hint chain says which backend it uses
    const rules = '*mangle\n:KUBE-IPTABLES-HINT - [0:0]\nCOMMIT\n' + kubeProxyRestore(services, {hooks: true})
    await ns.must(['iptables-nft-restore'], rules)
  })
  afterAll(async () => {
    await ns?.delete()
  })

  const withNodePort = services.find((s) => s.nodePort && s.endpoints.length > 1)!
  const noEndpoints = services.find((s) => s.endpoints.length === 0)
  const queries: Array<[string, SvcQuery]> = [
    ['a NodePort service by name', {name: withNodePort.name, namespace: withNodePort.namespace}],
    ['a service by address', {ip: services[7].clusterIP}],
    ...(noEndpoints ? [['a service without endpoints', {name: `${noEndpoints.namespace}/${noEndpoints.name}`}] as [string, SvcQuery]] : []),
  ]
  for (const [what, query] of queries) {
    it(`${what}: the same answer as the whole save, from its chains alone`, async () => {
      const host = new LiveNetnsHost(ns)
      const path = await gatherKubeProxyRules(host, {hint: queryHint(query)})
      expect(path.iptables?.scope).toBe('path')
      expect(path.iptables?.backend).toBe('nft')
      expect(host.asked.some((a) => a[0] === 'iptables-nft-save' || a[0] === 'ip6tables-nft-save')).toBe(false)
      // a few dozen chains, not the 300 services' thousands; the filter table in one listing
      const listed = host.asked.filter((a) => a[0] === 'iptables-nft' && a.includes('-S'))
      expect(listed.length).toBeLessThan(30)
      expect(listed.filter((a) => a.includes('filter'))).toEqual([['iptables-nft', '-t', 'filter', '-S']])
      // the nat chains asked for at one moment listed together, under one xargs
      expect(host.starts).toBeLessThan(listed.length)
      // no legacy table in this netns: the legacy saves would print nothing, and are not run
      expect(host.asked.filter((a) => a[0].includes('legacy'))).toEqual([])
      const whole = await gatherKubeProxyRules(new NetnsHost(ns))
      expect(whole.iptables?.scope).toBeUndefined()
      const net = {routes: [], pods: []}
      const a = buildSvcReport(path, net, query)
      const b = buildSvcReport(whole, net, query)
      expect(a.services.length).toBeGreaterThan(0)
      expect(a.services).toEqual(b.services)
      expect(a.problems).toEqual(b.problems)
    })
  }

  it('through long-lived lister streams: the same answer, a few process starts, and every stream ended', async () => {
    const query = {name: withNodePort.name, namespace: withNodePort.namespace}
    const host = new StreamNetnsHost(ns)
    const path = await gatherKubeProxyRules(host, {hint: queryHint(query)})
    expect(path.iptables?.scope).toBe('path')
    // two streams for IPv4, one for IPv6; no listing run on its own
    expect(host.streams).toEqual([...Array(2).fill(listerArgv('iptables-nft')), listerArgv('ip6tables-nft')])
    expect(host.asked.filter((a) => a[0].includes('iptables'))).toEqual([])
    for (let i = 0; i < 100 && host.ended < host.streams.length; i++) await new Promise((r) => setTimeout(r, 20))
    expect(host.ended).toBe(host.streams.length)
    const whole = await gatherKubeProxyRules(new NetnsHost(ns))
    const net = {routes: [], pods: []}
    const a = buildSvcReport(path, net, query)
    expect(a.services.length).toBeGreaterThan(0)
    expect(a.services).toEqual(buildSvcReport(whole, net, query).services)
    expect(a.problems).toEqual(buildSvcReport(whole, net, query).problems)
    // and where the lister's sh is not there, the listings one by one give the same
    const noLister = new (class extends LiveNetnsHost {
      feed(argv: string[], listeners: FedListeners): FedProgram {
        return spawnFed(['nodedoc-no-such-sh', ...argv.slice(1)], listeners)
      }
    })(ns)
    const fallback = await gatherKubeProxyRules(noLister, {hint: queryHint(query)})
    expect(fallback.iptables).toEqual(path.iptables)
  })

  it('a node whose kube-proxy uses the legacy backend: the streams are ended, the saves read', async () => {
    await ns.must(['iptables-nft', '-t', 'mangle', '-X', 'KUBE-IPTABLES-HINT'])
    try {
      const host = new StreamNetnsHost(ns)
      const rules = await gatherKubeProxyRules(host, {hint: queryHint({ip: services[7].clusterIP})})
      expect(rules.iptables?.scope).toBeUndefined()
      expect(host.asked).toContainEqual(['iptables-nft-save'])
      for (let i = 0; i < 100 && host.ended < host.streams.length; i++) await new Promise((r) => setTimeout(r, 20))
      expect(host.ended).toBe(host.streams.length)
    } finally {
      await ns.must(['iptables-nft', '-t', 'mangle', '-N', 'KUBE-IPTABLES-HINT'])
    }
  })

  it('KUBE- rules in iptables-legacy too: the legacy save is read, and the problem told as the whole save tells it', async () => {
    await ns.must(['iptables-legacy', '-t', 'nat', '-N', 'KUBE-STALE'])
    await ns.must(['iptables-legacy', '-t', 'nat', '-A', 'KUBE-STALE', '-j', 'RETURN'])
    try {
      const query = {ip: services[7].clusterIP}
      const host = new LiveNetnsHost(ns)
      const path = await gatherKubeProxyRules(host, {hint: queryHint(query)})
      expect(host.asked).toContainEqual(['iptables-legacy-save'])
      // the whole save also counts nft's KUBE- rules, which the path does not hold
      const both = /^both iptables-nft( \(\d+\))? and iptables-legacy \(1\) hold KUBE- rules/
      expect(path.problems.filter((p) => both.test(p))).toHaveLength(1)
      const whole = await gatherKubeProxyRules(new NetnsHost(ns))
      expect(whole.problems.filter((p) => both.test(p))).toHaveLength(1)
      const net = {routes: [], pods: []}
      expect(buildSvcReport(path, net, query).services).toEqual(buildSvcReport(whole, net, query).services)
    } finally {
      await ns.exec(['iptables-legacy', '-t', 'nat', '-F', 'KUBE-STALE'])
      await ns.exec(['iptables-legacy', '-t', 'nat', '-X', 'KUBE-STALE'])
    }
  })
})

describe.skipIf(!HAVE)('svc NAME through iptables-nft-restore --noflush batches', () => {
  let ns: Netns
  beforeAll(async () => {
    ns = await Netns.create(netnsName('restore'))
    // kube-proxy's rules, of its filter chains only KUBE-SERVICES and KUBE-EXTERNAL-SERVICES (the
    // others of PATH_START missing); a CNI's chain and a host's DROP reached from FORWARD and INPUT,
    // and a chain whose name restore would not read as it is
    const rules = '*mangle\n:KUBE-IPTABLES-HINT - [0:0]\nCOMMIT\n' + kubeProxyRestore(services, {hooks: true})
    await ns.must(['iptables-nft-restore'], rules)
    await ns.must(['iptables-nft-restore', '--noflush'], [
      '*filter', ':CNI-FORWARD - [0:0]', ':HOST-DENY - [0:0]', ':odd#chain - [0:0]',
      '-A FORWARD -m comment --comment "cni forward" -j CNI-FORWARD', '-A CNI-FORWARD -s 10.244.0.0/16 -j ACCEPT', '-A CNI-FORWARD -j odd#chain',
      '-A odd#chain -p tcp --dport 81 -j ACCEPT', '-A INPUT -j HOST-DENY', '-A HOST-DENY -p tcp --dport 9999 -j DROP', 'COMMIT', '',
    ].join('\n'))
  })
  afterAll(async () => {
    await ns?.delete()
  })

  const withNodePort = services.find((s) => s.nodePort && s.endpoints.length > 1)!
  for (const [what, query] of [
    ['a NodePort service by name', {name: withNodePort.name, namespace: withNodePort.namespace}],
    ['a service by address', {ip: services[7].clusterIP}],
    ['a service not there', {name: 'no-such/svc'}],
  ] as Array<[string, SvcQuery]>) {
    it(`${what}: the same answer as the whole save, the filter chains by restore batches, and nothing in the kernel changed`, async () => {
      const before = await ruleset(ns)
      const host = new StreamNetnsHost(ns)
      const path = await gatherKubeProxyRules(host, {hint: queryHint(query)})
      expect(path.iptables?.scope).toBe('path')
      // the filter table never read whole; its start chains by one restore, the chains reached by jumps by another
      expect(host.written).not.toContain('filter')
      expect(host.written).toContain('restore filter INPUT FORWARD OUTPUT KUBE-SERVICES KUBE-EXTERNAL-SERVICES KUBE-NODEPORTS KUBE-PROXY-FIREWALL KUBE-FORWARD KUBE-FIREWALL')
      expect(host.written.filter((l) => /^restore filter .*\bCNI-FORWARD\b/.test(l))).toHaveLength(1)
      // the chain restore would not read as it is: its own listing
      expect(host.written).toContain('filter odd#chain')
      expect(path.iptables!.ipv4).toContain('-A odd#chain -p tcp -m tcp --dport 81 -j ACCEPT')
      expect(path.iptables!.ipv4).toContain('-A HOST-DENY -p tcp -m tcp --dport 9999 -j DROP')
      expect(host.asked.filter((a) => a[0].includes('iptables'))).toEqual([])
      for (let i = 0; i < 100 && host.ended < host.streams.length; i++) await new Promise((r) => setTimeout(r, 20))
      expect(host.ended).toBe(host.streams.length)
      expect((await ruleset(ns)).split('\n')).toEqual(before.split('\n'))
      const whole = await gatherKubeProxyRules(new NetnsHost(ns))
      const net = {routes: [], pods: []}
      const a = buildSvcReport(path, net, query)
      const b = buildSvcReport(whole, net, query)
      expect(a.services).toEqual(b.services)
      expect(a.problems).toEqual(b.problems)
      expect(a.notes).toEqual(b.notes)
    })
  }

  it('a chain iptables-nft cannot show on the path (it fails the whole table\'s listing): had as not there, the rest of the path read', async () => {
    const query = {name: withNodePort.name, namespace: withNodePort.namespace}
    const without = await gatherKubeProxyRules(new StreamNetnsHost(ns), {hint: queryHint(query)})
    await ns.must(['nft', 'add', 'chain', 'ip', 'filter', 'NFT-ONLY'])
    await ns.must(['nft', 'add', 'rule', 'ip', 'filter', 'NFT-ONLY', 'meta', 'mark', 'set', 'numgen', 'random', 'mod', '2'])
    await ns.must(['iptables-nft', '-I', 'FORWARD', '1', '-j', 'NFT-ONLY'])
    try {
      expect((await ns.exec(['iptables-nft', '-t', 'filter', '-S'])).exitCode).toBe(1)
      const host = new StreamNetnsHost(ns)
      const before = await ruleset(ns)
      const path = await gatherKubeProxyRules(host, {hint: queryHint(query)})
      expect(host.written.filter((l) => /^restore filter .*\bNFT-ONLY\b/.test(l)).length).toBeGreaterThan(0)
      // the path as without that chain (but FORWARD's jump to it)
      expect(path.iptables!.ipv4.replace('-A FORWARD -j NFT-ONLY\n', '')).toBe(without.iptables!.ipv4)
      for (let i = 0; i < 100 && host.ended < host.streams.length; i++) await new Promise((r) => setTimeout(r, 20))
      expect(await ruleset(ns)).toBe(before)
    } finally {
      await ns.exec(['iptables-nft', '-D', 'FORWARD', '-j', 'NFT-ONLY'])
      await ns.exec(['nft', 'flush', 'chain', 'ip', 'filter', 'NFT-ONLY'])
      await ns.exec(['nft', 'delete', 'chain', 'ip', 'filter', 'NFT-ONLY'])
    }
  })

  it('in a netns without any table: the restores make none (nft lists no ruleset after)', async () => {
    const empty = await Netns.create(netnsName('restore-empty'))
    try {
      const host = new StreamNetnsHost(empty)
      await gatherKubeProxyRules(host, {hint: queryHint({name: 'ns/svc'}), backend: 'nft'})
      expect(host.written.filter((l) => l.startsWith('restore ')).length).toBeGreaterThan(0)
      for (let i = 0; i < 100 && host.ended < host.streams.length; i++) await new Promise((r) => setTimeout(r, 20))
      expect(await empty.must(['nft', 'list', 'ruleset'])).toBe('')
    } finally {
      await empty.delete()
    }
  })

  it('where a restore fails otherwise (no restore program): the same answer, the chains the way before', async () => {
    const query = {name: withNodePort.name, namespace: withNodePort.namespace}
    const streamed = await gatherKubeProxyRules(new StreamNetnsHost(ns), {hint: queryHint(query)})
    // the lister's program named by a path in a directory without its -restore: exit 127
    const dir = mkdtempSync(join(tmpdir(), 'nodedoc-norestore-'))
    try {
      symlinkSync((await ns.must(['sh', '-c', 'command -v iptables-nft'])).trim(), join(dir, 'iptables-nft'))
      const host = new (class extends StreamNetnsHost {
        override feed(argv: string[], listeners: FedListeners): FedProgram {
          return super.feed(argv.map((a) => (a === 'iptables-nft' ? join(dir, 'iptables-nft') : a)), listeners)
        }
      })(ns)
      const before = await ruleset(ns)
      const fallback = await gatherKubeProxyRules(host, {hint: queryHint(query)})
      expect(host.written.some((l) => l.startsWith('restore filter '))).toBe(true)
      // the filter table whole, after the restore of its start chains failed: run on its own (its exit code told)
      expect(host.asked).toContainEqual(['iptables-nft', '-t', 'filter', '-S'])
      expect(fallback.iptables).toEqual(streamed.iptables)
      for (let i = 0; i < 100 && host.ended < host.streams.length; i++) await new Promise((r) => setTimeout(r, 20))
      expect((await ruleset(ns)).split('\n')).toEqual(before.split('\n'))
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})

describe.skipIf(!HAVE || !IS_ROOT)('svc NAME on the legacy backend reads the save once', () => {
  let ns: Netns
  beforeAll(async () => {
    ns = await Netns.create(netnsName('pathlegacy'))
    const rules = '*mangle\n:KUBE-IPTABLES-HINT - [0:0]\nCOMMIT\n' + kubeProxyRestore(services, {hooks: true})
    await ns.must(['iptables-legacy-restore'], rules)
  })
  afterAll(async () => {
    await ns?.delete()
  })

  const withNodePort = services.find((s) => s.nodePort && s.endpoints.length > 1)!
  for (const [what, query] of [['a NodePort service by name', {name: withNodePort.name, namespace: withNodePort.namespace}], ['a service by address', {ip: services[7].clusterIP}]] as Array<[string, SvcQuery]>) {
    it(`${what}: the same answer as the whole save, traced on the chains on its path`, async () => {
      const host = new LiveNetnsHost(ns)
      const path = await gatherKubeProxyRules(host, {hint: queryHint(query)})
      expect(path.iptables?.backend).toBe('legacy')
      expect(host.asked.filter((a) => a[0] === 'iptables-legacy-save')).toHaveLength(1)
      expect(host.asked.some((a) => a[0] === 'iptables-nft' && a[2] === 'nat')).toBe(false)
      // a few chains' rules, not 300 services'
      expect(path.iptables!.ipv4.split('\n').length).toBeLessThan(100)
      const whole = await gatherKubeProxyRules(new NetnsHost(ns))
      expect(whole.iptables!.ipv4.split('\n').length).toBeGreaterThan(1000)
      const net = {routes: [], pods: []}
      const a = buildSvcReport(path, net, query)
      const b = buildSvcReport(whole, net, query)
      expect(a.services.length).toBeGreaterThan(0)
      expect(a.services).toEqual(b.services)
      expect(a.problems).toEqual(b.problems)
      expect(a.notes).toEqual(b.notes)
    })
  }
})
