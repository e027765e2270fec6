// svc NAME on the legacy backend lists only its path's chains through `iptables-legacy-restore
// --test --noflush` (src/svc/legacy-restore.ts), on the real kernel: the same answer as the whole
// save, nothing in the kernel changed, no lock taken where kube-proxy takes its own, and the save
// read instead wherever a restore does not give every listing.
import {mkdtempSync, readFileSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {FedListeners, FedProgram, FileStat, RunOptions, RunResult} from '../../../src/host/host.js'
import {spawnFed} from '../../../src/host/fed.js'
import {type SvcQuery, buildSvcReport, queryHint} from '../../../src/svc/correlate.js'
import {gatherKubeProxyRules} from '../../../src/svc/gather.js'
import {RESTORE6_ARGV, RESTORE_ARGV} from '../../../src/svc/legacy-restore.js'
// @ts-expect-error plain JS generator shared with the benchmark
import {kubeProxyRestore, nodeOwnerRules, syntheticServices} from '../../../bench/svc-gen.mjs'
import {IS_ROOT, Netns, NetnsHost, have, netnsName} from './netns.js'

const HAVE = IS_ROOT && (await have('iptables-legacy-restore')) && (await have('ip6tables-legacy-restore')) && (await have('stdbuf')) && (await have('strace'))
if (!HAVE) console.warn('svc legacy restore test needs root, iptables-legacy-restore, ip6tables-legacy-restore, stdbuf and strace: skipped')

/**
 * A live host (root /) whose programs, fed ones too, run in the netns, as do its reads of
 * /proc/net; keeps what it ran and fed. strace: each fed program under strace, its calls that
 * open, lock or set anything written to a file of its own there. inject: a line added to each
 * round written to a fed program (before its sentinel's line).
 */
class RestoreNetnsHost extends NetnsHost {
  readonly root = '/'
  readonly ran: string[][] = []
  readonly fed: string[][] = []
  ended = 0
  constructor(private readonly inside: Netns, private readonly options: {strace?: string; inject?: string} = {}) {
    super(inside)
  }
  override async run(argv: string[], options?: RunOptions): Promise<RunResult | undefined> {
    this.ran.push(argv)
    return super.run(argv, options)
  }
  override async readFile(path: string): Promise<string | undefined> {
    if (!path.startsWith('/proc/net/')) return undefined
    const r = await this.inside.exec(['cat', path])
    return r.exitCode === 0 ? r.stdout : undefined
  }
  override async stat(path: string): Promise<FileStat | undefined> {
    return path.startsWith('/proc/net/') && (await this.readFile(path)) !== undefined ? {kind: 'file', size: 0, mtimeMs: 0, ino: 0} : undefined
  }
  feed(argv: string[], listeners: FedListeners): FedProgram {
    this.fed.push(argv)
    const {strace, inject} = this.options
    const traced = strace ? ['strace', '-f', '-qq', '-o', join(strace, `restore-${this.fed.length}`), '-e', 'trace=openat,open,creat,flock,setsockopt', ...argv] : argv
    const program = spawnFed(['ip', 'netns', 'exec', this.inside.name, ...traced], {
      stdout: listeners.stdout,
      exit: (code) => {
        this.ended++
        listeners.exit(code)
      },
    })
    return {
      write: (text) => program.write(inject && text.endsWith('-S INPUT\n') && text.startsWith('-S ') ? text.replace(/-S INPUT\n$/, `${inject}-S INPUT\n`) : text),
      close: () => program.close(),
      kill: () => program.kill(),
    }
  }
}

const owners = nodeOwnerRules() as {v4: string; v6: string}
const HINT = '*mangle\n:KUBE-IPTABLES-HINT - [0:0]\nCOMMIT\n'
// a chain on every path whose name holds every odd character restore reads as it is
const ODD = '*nat\n:odd.chain@1+x:y_z - [0:0]\n-A PREROUTING -j odd.chain@1+x:y_z\n-A odd.chain@1+x:y_z -j RETURN\nCOMMIT\n'

/** What the legacy tables hold in the netns, both families, as their saves print them (the dated comments left out). */
async function legacyRules(ns: Netns): Promise<string> {
  const saves = await Promise.all(['iptables-legacy-save', 'ip6tables-legacy-save'].map((p) => ns.must([p])))
  return saves.join('').replace(/^#.*$\n?/gm, '')
}

/** The answer svc gives for query on both hosts' rules. */
async function answers(ns: Netns, host: RestoreNetnsHost, query: SvcQuery) {
  const path = await gatherKubeProxyRules(host, {hint: queryHint(query)})
  const whole = await gatherKubeProxyRules(new NetnsHost(ns))
  const net = {routes: [], pods: []}
  const [a, b] = [buildSvcReport(path, net, query), buildSvcReport(whole, net, query)]
  return {path, whole, a, b}
}

const restores = (host: RestoreNetnsHost) => host.fed.filter((argv) => argv.join(' ') === RESTORE_ARGV.join(' ') || argv.join(' ') === RESTORE6_ARGV.join(' '))

describe.skipIf(!HAVE)('svc NAME on the legacy backend lists its path through restores', () => {
  let ns: Netns
  beforeAll(async () => {
    ns = await Netns.create(netnsName('lrestore'))
    await ns.must(['iptables-legacy-restore'], HINT + owners.v4)
    await ns.must(['iptables-legacy-restore', '--noflush'], ODD)
    await ns.must(['ip6tables-legacy-restore'], owners.v6)
  })
  afterAll(async () => {
    await ns?.delete()
  })

  const queries: Array<[string, SvcQuery]> = [
    ['a service of both families', {name: 'web', namespace: 'team-a'}],
    ['a service whose endpoints are anywhere', {name: 'default/mixed'}],
    ['a service without endpoints', {name: 'default/empty'}],
    ['a service that is not there', {name: 'default/nosuch'}],
    ['a service by address', {ip: '10.96.0.11'}],
    ['an IPv6 service by address', {ip: 'fd00:96::10'}],
  ]
  for (const [what, query] of queries) {
    it(`${what}: the same answer as the whole save, no save run, every restore ended`, async () => {
      const host = new RestoreNetnsHost(ns)
      const {path, a, b} = await answers(ns, host, query)
      expect(path.iptables?.backend).toBe('legacy')
      expect(host.ran.filter((argv) => argv[0].includes('legacy'))).toEqual([])
      // IPv4's mangle, filter and nat, IPv6's filter and nat
      expect(restores(host)).toHaveLength(5)
      expect(host.ended).toBe(host.fed.length)
      expect(a.services).toEqual(b.services)
      expect(a.problems).toEqual(b.problems)
      expect(a.notes).toEqual(b.notes)
      if (query.name !== 'default/nosuch') expect(a.services.length).toBeGreaterThan(0)
    })
  }

  it('changes nothing in the kernel, never opens /run/xtables.lock (its lock on its own /proc/self/status), never sets anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nodedoc-restore-strace-'))
    try {
      const before = await legacyRules(ns)
      const host = new RestoreNetnsHost(ns, {strace: dir})
      const {a, b} = await answers(ns, host, {name: 'web', namespace: 'team-a'})
      expect(a.services).toEqual(b.services)
      expect(await legacyRules(ns)).toBe(before)
      const traces = readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8'))
      expect(traces).toHaveLength(5)
      for (const trace of traces) {
        expect(trace).not.toMatch(/setsockopt/)
        expect(trace).not.toMatch(/xtables\.lock/)
        expect(trace).toMatch(/open(at)?\(.*"\/proc\/self\/status", O_RDONLY\|O_CREAT/)
        expect(trace).toMatch(/flock\(\d+, LOCK_EX\) += 0/)
      }
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('a chain that ends the restore (not there): the save read instead, the same answer', async () => {
    const host = new RestoreNetsHostInjecting(ns)
    const {path, a, b} = await answers(ns, host, {name: 'web', namespace: 'team-a'})
    expect(path.iptables?.backend).toBe('legacy')
    // each family's restore ended at the chain, each family's save read
    expect(host.ran.filter((argv) => argv[0].includes('legacy-save')).map((argv) => argv[0]).sort()).toEqual(['ip6tables-legacy-save', 'iptables-legacy-save'])
    expect(host.ended).toBe(host.fed.length)
    expect(a.services.length).toBeGreaterThan(0)
    expect(a.services).toEqual(b.services)
    expect(a.problems).toEqual(b.problems)
  })

  it('no restore program (stdbuf or the restore not there): the save read instead, the same answer', async () => {
    const host = new RestoreNetnsHost(ns)
    const feed = host.feed.bind(host)
    host.feed = (argv, listeners) => feed(argv.map((a) => a.replace(/-legacy-restore$/, '-legacy-restore-not-there')), listeners)
    const {a, b} = await answers(ns, host, {name: 'default/mixed'})
    expect(host.ran.filter((argv) => argv[0].includes('legacy-save'))).toHaveLength(2)
    expect(a.services).toEqual(b.services)
  })
})

/** The host above, each round also asking for a chain the kernel does not hold. */
class RestoreNetsHostInjecting extends RestoreNetnsHost {
  constructor(ns: Netns) {
    super(ns, {inject: '-S NODEDOC-NOT-THERE\n'})
  }
}

describe.skipIf(!HAVE)('svc NAME where iptables-nft holds KUBE- rules too', () => {
  let ns: Netns
  beforeAll(async () => {
    ns = await Netns.create(netnsName('lrboth'))
    await ns.must(['iptables-legacy-restore'], HINT + owners.v4)
    await ns.must(['iptables-nft-restore'], kubeProxyRestore(syntheticServices(3), {hooks: true}))
  })
  afterAll(async () => {
    await ns?.delete()
  })

  it('the saves read (the problem counts both), the same answer as the whole saves', async () => {
    const host = new RestoreNetnsHost(ns)
    const {path, a, b} = await answers(ns, host, {name: 'web', namespace: 'team-a'})
    expect(path.iptables?.backend).toBe('legacy')
    expect(host.ran.some((argv) => argv[0] === 'iptables-legacy-save')).toBe(true)
    expect(a.problems.some((p) => p.includes('both iptables-nft'))).toBe(true)
    expect(a.services).toEqual(b.services)
    expect(a.problems).toEqual(b.problems)
  })
})
