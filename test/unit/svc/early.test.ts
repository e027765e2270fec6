import {describe, expect, it} from 'vitest'
import {type FedListeners, type FedProgram, type Host, Warnings} from '../../../src/host/host.js'
import {HINT_PROBES, STREAM6_ARGV, STREAM_ARGV, legacyRestoreFeeds, liveSvcName, pathStreamWrites, svcEarlyPlan} from '../../../src/svc/early.js'
import {batchInput} from '../../../src/svc/listing-stream.js'
import {gatherIptables} from '../../../src/svc/gather.js'

describe('liveSvcName', () => {
  it('knows a live svc NAME, with the flags that keep it live and read-only, and its --iptables-backend', () => {
    expect(liveSvcName(['kube-dns'], {})).toBe('auto')
    expect(liveSvcName(['kube-system/kube-dns', '-o', 'json'], {})).toBe('auto')
    expect(liveSvcName(['-ojson', 'kube-dns', '-n', 'kube-system', '--port=dns', '--protocol', 'udp'], {})).toBe('auto')
    expect(liveSvcName(['kube-dns', '--iptables-backend', 'legacy'], {})).toBe('legacy')
    expect(liveSvcName(['kube-dns', '--iptables-backend=nft', '--no-headers', '--graph', 'dot'], {})).toBe('nft')
    expect(liveSvcName(['kube-dns'], {NODEDOC_HOST_ROOT: '/'})).toBe('auto')
  })

  it('starts nothing for rules from files, a snapshot, another root, -A, --ip, --probe, help, or what it does not know', () => {
    for (const args of [
      [], ['-A'], ['--all-namespaces'], ['a', 'b'], ['kube-dns', '--iptables-save', 'f'], ['kube-dns', '--nft=f'], ['kube-dns', '--ipvsadm', 'f'],
      ['kube-dns', '--from', 'snap.tar.gz'], ['kube-dns', '--host-root', '/host'], ['--ip', '10.96.0.10'], ['kube-dns', '--probe'],
      ['kube-dns', '--help'], ['kube-dns', '-h'], ['kube-dns', '--iptables-backend', 'other'], ['kube-dns', '-o'], ['kube-dns', '--'], ['kube-dns', '--new-flag'],
    ]) {
      expect(liveSvcName(args, {}), args.join(' ')).toBeUndefined()
    }
    expect(liveSvcName(['kube-dns'], {NODEDOC_HOST_ROOT: '/host'})).toBeUndefined()
  })

  it('plans no listing stream for --iptables-backend legacy: the legacy nat restores, each where the kernel lists nat; the saves only with --iptables-backend nft', () => {
    expect(svcEarlyPlan('legacy').feeds).toEqual(legacyRestoreFeeds())
    expect(legacyRestoreFeeds().map((f) => [f.argv[4], f.whenListed, f.whenTable, f.first ?? false])).toEqual([
      ['iptables-legacy-restore', '/proc/net/ip_tables_names', 'nat', true],
      ['ip6tables-legacy-restore', '/proc/net/ip6_tables_names', 'nat', false],
    ])
    expect(svcEarlyPlan('auto').feeds?.slice(0, 2)).toEqual(legacyRestoreFeeds())
    expect(svcEarlyPlan('auto').streams).toEqual([])
    expect(svcEarlyPlan('legacy').streams).toEqual([])
    expect(svcEarlyPlan('nft').streams?.map((s) => [s.argv, s.whenListed])).toEqual([
      [['iptables-legacy-save'], '/proc/net/ip_tables_names'],
      [['ip6tables-legacy-save'], '/proc/net/ip6_tables_names'],
    ])
  })

  it('where the kernel lists IPv4 legacy tables: the hint probes instead of the listing streams (unless --iptables-backend nft)', () => {
    const auto = svcEarlyPlan('auto')
    const listers = auto.feeds?.filter((f) => f.argv[0] === 'sh')
    expect(listers?.length).toBe(3)
    expect(listers?.map((f) => f.unlessListed)).toEqual(listers?.map(() => '/proc/net/ip_tables_names'))
    expect(auto.runs?.slice(0, 2)).toEqual(HINT_PROBES.map((argv) => ({argv, whenListed: '/proc/net/ip_tables_names'})))
    const nft = svcEarlyPlan('nft')
    expect(nft.feeds?.length).toBe(3)
    expect(nft.feeds?.map((f) => f.unlessListed)).toEqual([undefined, undefined, undefined])
    expect(nft.runs?.some((r) => HINT_PROBES.some((argv) => argv.join(' ') === r.argv.join(' ')))).toBe(false)
  })
})

/** A live-looking host whose listing streams answer every batch with an empty listing (a restore: stopped at its first chain), keeping what each was sent. */
class RecordingHost implements Host {
  readonly warnings = new Warnings()
  readonly description = 'recording'
  readonly root = '/'
  readonly sent: string[][] = []
  readonly sent6: string[][] = []
  readonly ran: string[][] = []
  /** legacyNames: what /proc/net/ip_tables_names holds; hinted: iptables-nft's mangle has KUBE-IPTABLES-HINT */
  constructor(private readonly legacyNames?: string, private readonly hinted = false) {}
  async readFile(path: string) {
    return path === '/proc/net/ip_tables_names' ? this.legacyNames : undefined
  }
  async readDir() {
    return undefined
  }
  async readLink() {
    return undefined
  }
  async stat() {
    return undefined
  }
  async run(argv: string[]) {
    this.ran.push(argv)
    if (argv.join(' ') === HINT_PROBES[0].join(' ')) return {stdout: this.hinted ? '-N KUBE-IPTABLES-HINT' : '', stderr: '', exitCode: this.hinted ? 0 : 1}
    return undefined
  }
  feed(argv: string[], listeners: FedListeners): FedProgram {
    const writes: string[] = []
    if (argv.join(' ') === STREAM_ARGV.join(' ')) this.sent.push(writes)
    if (argv.join(' ') === STREAM6_ARGV.join(' ')) this.sent6.push(writes)
    let open = true
    const end = () => {
      if (open) setImmediate(() => listeners.exit(0))
      open = false
    }
    return {
      write: (text) => {
        writes.push(text)
        setImmediate(() => listeners.stdout((text.startsWith('restore ') ? 'nodedoc: restore exit 1\n' : '') + 'nodedoc: end of batch\n'))
      },
      close: end,
      kill: end,
    }
  }
}

describe('pathStreamWrites', () => {
  for (const backend of ['auto', 'nft'] as const) {
    it(`is what gatherPath first writes to each IPv4 stream (--iptables-backend ${backend})`, async () => {
      const host = new RecordingHost()
      await gatherIptables(host, {hint: '"ns/svc:', backend})
      const expected = pathStreamWrites(backend)
      expect(host.sent).toHaveLength(expected.length)
      host.sent.forEach((writes, i) => expect(writes.slice(0, expected[i].length)).toEqual(expected[i]))
    })
  }

  it("IPv6's stream is opened beside them, and first asked for its KUBE-SERVICES (once the hint is known)", async () => {
    const host = new RecordingHost()
    await gatherIptables(host, {hint: '"ns/svc:', backend: 'nft'})
    expect(host.sent6).toHaveLength(1)
    expect(host.sent6[0][0]).toBe(batchInput('nat', ['KUBE-SERVICES']))
    expect(svcEarlyPlan('nft').feeds?.at(-1)).toEqual({argv: STREAM6_ARGV, writes: [batchInput('nat', ['KUBE-SERVICES'])]})
  })
})

describe('where the kernel lists IPv4 legacy tables', () => {
  it('gatherIptables asks the hint probes the launcher started, one by one, and opens no listing stream when iptables-nft has no hint', async () => {
    const host = new RecordingHost('nat\nfilter\n')
    await gatherIptables(host, {hint: '"ns/svc:'})
    expect(host.sent).toEqual([])
    expect(host.sent6).toEqual([])
    expect(host.ran.filter((argv) => argv[0] === 'iptables-nft')).toEqual(HINT_PROBES)
  })

  it('reads the path through the streams when iptables-nft has the hint, and always with --iptables-backend nft', async () => {
    const hinted = new RecordingHost('nat\n', true)
    await gatherIptables(hinted, {hint: '"ns/svc:'})
    expect(hinted.ran.filter((argv) => argv[0] === 'iptables-nft')).toEqual([HINT_PROBES[0]])
    expect(hinted.sent.length).toBe(2)
    const forced = new RecordingHost('nat\n')
    await gatherIptables(forced, {hint: '"ns/svc:', backend: 'nft'})
    expect(forced.ran.some((argv) => argv.join(' ') === HINT_PROBES[0].join(' '))).toBe(false)
    expect(forced.sent.length).toBe(2)
  })

  it("starts IPv4's KUBE-SERVICES stream before the others (the walk waits for it)", () => {
    for (const backend of ['auto', 'nft'] as const) {
      const first = svcEarlyPlan(backend).feeds!.filter((f) => f.first && f.argv[0] === 'sh')
      expect(first.map((f) => [f.argv, f.writes])).toEqual([[STREAM_ARGV, [batchInput('nat', ['KUBE-SERVICES'])]]])
    }
  })
})
