import {describe, expect, it} from 'vitest'
import {type FedListeners, type FedProgram, type Host, Warnings} from '../../../src/host/host.js'
import {legacyRestoreFeeds} from '../../../src/svc/early.js'
import {pathLines} from '../../../src/svc/iptables-path.js'
import {RESTORE6_ARGV, RESTORE_ARGV, RestoreReader, natFirstWrites, readLegacyPath, roundInput, startLegacyReads, wholeEnd, wholeWrites} from '../../../src/svc/legacy-restore.js'

describe('the legacy restores nodedoc runs', () => {
  it('are a constant argv: --test (nothing committed) and --noflush, the lock on its own /proc/self/status, stdout by lines', () => {
    expect(RESTORE_ARGV).toEqual(['env', 'XTABLES_LOCKFILE=/proc/self/status', 'stdbuf', '-oL', 'iptables-legacy-restore', '--test', '--noflush'])
    expect(RESTORE6_ARGV).toEqual(['env', 'XTABLES_LOCKFILE=/proc/self/status', 'stdbuf', '-oL', 'ip6tables-legacy-restore', '--test', '--noflush'])
    // the launcher starts exactly these, nothing else of this kind
    for (const feed of legacyRestoreFeeds()) expect([RESTORE_ARGV, RESTORE6_ARGV].map((a) => a.join(' '))).toContain(feed.argv.join(' '))
  })

  it('are written only a table line, -S lines and COMMIT', () => {
    const writes = [...natFirstWrites(), ...wholeWrites('filter'), ...wholeWrites('mangle'), roundInput(['KUBE-SVC-ABC', 'KUBE-MARK-MASQ'])].join('')
    for (const line of writes.split('\n').slice(0, -1)) expect(line).toMatch(/^(\*(nat|filter|mangle)|-S( [A-Z][A-Z0-9_-]*)?|COMMIT)$/)
    expect(roundInput(['KUBE-SVC-ABC'])).toBe('-S KUBE-SVC-ABC\n-S INPUT\n')
  })
})

const nat = {
  PREROUTING: '-P PREROUTING ACCEPT\n-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES\n',
  INPUT: '-P INPUT ACCEPT\n',
  OUTPUT: '-P OUTPUT ACCEPT\n-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES\n',
  POSTROUTING: '-P POSTROUTING ACCEPT\n-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING\n',
  'KUBE-SERVICES': '-N KUBE-SERVICES\n' +
    '-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment "ns/a:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-AAAA\n' +
    '-A KUBE-SERVICES -d 10.96.0.2/32 -p tcp -m comment --comment "ns/b:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-BBBB\n' +
    '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\n',
  'KUBE-NODEPORTS': '-N KUBE-NODEPORTS\n',
  'KUBE-POSTROUTING': '-N KUBE-POSTROUTING\n-A KUBE-POSTROUTING -j MASQUERADE\n',
  'KUBE-MARK-MASQ': '-N KUBE-MARK-MASQ\n-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000\n',
  'KUBE-SVC-AAAA': '-N KUBE-SVC-AAAA\n-A KUBE-SVC-AAAA -m comment --comment "ns/a:http -> 10.0.0.5:80" -j KUBE-SEP-A1\n',
  'KUBE-SVC-BBBB': '-N KUBE-SVC-BBBB\n-A KUBE-SVC-BBBB -j KUBE-SEP-B1\n',
  'KUBE-SEP-A1': '-N KUBE-SEP-A1\n-A KUBE-SEP-A1 -s 10.0.0.5/32 -m comment --comment "ns/a:http" -j KUBE-MARK-MASQ\n-A KUBE-SEP-A1 -p tcp -m comment --comment "ns/a:http" -m tcp -j DNAT --to-destination 10.0.0.5:80\n',
  'KUBE-SEP-B1': '-N KUBE-SEP-B1\n',
} as Record<string, string>

const filter = '-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n-N KUBE-SERVICES\n-A FORWARD -j KUBE-SERVICES\n'
const mangle = '-P PREROUTING ACCEPT\n-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n-P POSTROUTING ACCEPT\n-N KUBE-IPTABLES-HINT\n'

describe('RestoreReader', () => {
  const output = (chains: string[]) => [...chains, 'INPUT'].map((c) => nat[c]).join('')

  it('cuts rounds at the sentinel, whatever the pieces, each chain its own listing', () => {
    const text = output(['PREROUTING', 'OUTPUT']) + output(['KUBE-SVC-AAAA'])
    for (const size of [1, 7, 64, text.length]) {
      const reader = new RestoreReader()
      reader.ask(['PREROUTING', 'OUTPUT'])
      reader.ask(['KUBE-SVC-AAAA'])
      const done = []
      for (let i = 0; i < text.length; i += size) done.push(...reader.push(text.slice(i, i + size)))
      expect(reader.garbled).toBe(false)
      expect(done).toEqual([new Map([['PREROUTING', nat.PREROUTING], ['OUTPUT', nat.OUTPUT]]), new Map([['KUBE-SVC-AAAA', nat['KUBE-SVC-AAAA']]])])
    }
  })

  it('a round is not done before its sentinel\'s line; the sentinel\'s own rules are dropped', () => {
    const reader = new RestoreReader()
    reader.ask(['KUBE-SEP-A1'])
    expect(reader.push(nat['KUBE-SEP-A1'])).toEqual([])
    expect(reader.push('-P INPUT ACCEPT\n-A INPUT -j ACCEPT\n')).toHaveLength(1)
    reader.ask(['KUBE-SEP-B1'])
    expect(reader.push(nat['KUBE-SEP-B1'] + '-P INPUT ACCEPT\n')).toEqual([new Map([['KUBE-SEP-B1', nat['KUBE-SEP-B1']]])])
  })

  it('keeps of a shared chain only the lines its filter keeps', () => {
    const reader = new RestoreReader((chain) => pathLines(chain, '10.96.0.1'))
    reader.ask(['KUBE-SERVICES'])
    const [listed] = reader.push(output(['KUBE-SERVICES']))
    expect(listed.get('KUBE-SERVICES')).not.toContain('KUBE-SVC-BBBB')
    expect(listed.get('KUBE-SERVICES')).toContain('KUBE-SVC-AAAA')
    expect(listed.get('KUBE-SERVICES')).toContain('KUBE-NODEPORTS')
  })

  it('is garbled by a line no listing prints, a chain out of turn, another chain\'s rule, or a line before any listing', () => {
    const cases: Array<[string[], string]> = [
      [['KUBE-SEP-B1'], '-N KUBE-SEP-B1\niptables-restore: line 3 failed\n-P INPUT ACCEPT\n'],
      [['KUBE-SEP-B1'], '-N KUBE-SEP-A1\n-P INPUT ACCEPT\n'],
      [['KUBE-SEP-B1'], '-N KUBE-SEP-B1\n-A KUBE-SEP-A1 -j ACCEPT\n-P INPUT ACCEPT\n'],
      [['KUBE-SEP-B1'], '-A KUBE-SEP-B1 -j ACCEPT\n'],
      [['KUBE-SEP-B1'], '-N KUBE-SEP-B1\n-A KUBE-SEP-B1X -j ACCEPT\n-P INPUT ACCEPT\n'],
      [[], '-P INPUT ACCEPT\n'],
      [['KUBE-SEP-B1'], '# Warning: something\n'],
    ]
    for (const [chains, text] of cases) {
      const reader = new RestoreReader()
      if (chains.length) reader.ask(chains)
      expect(reader.push(text), text).toEqual([])
      expect(reader.garbled, text).toBe(true)
    }
  })
})

describe('wholeEnd', () => {
  it('ends a whole listing at the sentinel\'s -P INPUT line, not before; -1 for a line no listing prints', () => {
    expect(wholeEnd(filter)).toBeUndefined()
    expect(wholeEnd(filter + '-P INPUT ACC')).toBeUndefined()
    expect(wholeEnd(filter + '-P INPUT ACCEPT\n')).toBe(filter.length)
    expect(wholeEnd(mangle + '-P INPUT ACCEPT\n-A INPUT -j X\n')).toBe(mangle.length)
    expect(wholeEnd('# odd\n' + filter + '-P INPUT ACCEPT\n')).toBe(-1)
  })
})

/**
 * A host whose feeds act as iptables-legacy-restore --test does on these tables: a table line,
 * then each -S line answered at once from the table (a whole table for a bare -S), a chain that
 * is not there ending it (exit 1); keeps every write.
 */
class RestoreHost implements Host {
  readonly warnings = new Warnings()
  readonly description = 'restore'
  readonly root = '/'
  readonly writes: string[][] = []
  ended = 0
  constructor(private readonly tables: Record<string, Record<string, string> | string>) {}
  async readFile() {
    return undefined
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
  async run() {
    return undefined
  }
  feed(argv: string[], listeners: FedListeners): FedProgram {
    const writes: string[] = []
    this.writes.push(writes)
    let table: Record<string, string> | string | undefined
    let open = true
    const end = (code: number | null) => {
      if (!open) return
      open = false
      this.ended++
      setImmediate(() => listeners.exit(code))
    }
    return {
      write: (text) => {
        writes.push(text)
        for (const line of text.split('\n').slice(0, -1)) {
          if (!open) return
          if (line.startsWith('*')) table = this.tables[line.slice(1)]
          else if (line === 'COMMIT') continue
          else if (line === '-S') {
            const whole = typeof table === 'string' ? table : Object.values(table ?? {}).join('')
            setImmediate(() => listeners.stdout(whole))
          } else {
            const chain = line.slice(3)
            const listing = typeof table === 'string' ? (table.match(new RegExp(`^-[PNA] ${chain}( .*)?$`, 'gm')) ?? []).map((l) => l + '\n').join('') : table?.[chain]
            if (!listing) return end(1)
            setImmediate(() => listeners.stdout(listing))
          }
        }
      },
      close: () => end(0),
      kill: () => end(null),
    }
  }
}

describe('readLegacyPath', () => {
  it('walks from the built-in chains, each chain asked for once a listing jumps to it, in rounds; the launcher\'s first writes are its own', async () => {
    const host = new RestoreHost({nat, filter, mangle})
    const read = await readLegacyPath(startLegacyReads(host, 0, 'nat\nfilter\nmangle\n', '10.96.0.1'), '10.96.0.1')
    expect(read?.hinted).toBe(true)
    expect(read?.text).toContain('-A KUBE-SEP-A1 -p tcp')
    expect(read?.text).not.toContain('KUBE-SVC-BBBB')
    expect(read?.text).toContain(':KUBE-NODEPORTS - [0:0]')
    // nat first, with the launcher's first writes (its feeds of one argv are taken in plan order), then mangle and filter
    const feeds = legacyRestoreFeeds().filter((f) => f.argv[4] === 'iptables-legacy-restore')
    expect(feeds).toHaveLength(1)
    expect(host.writes).toHaveLength(3)
    expect(host.writes[0].slice(0, feeds[0].writes.length)).toEqual(feeds[0].writes)
    expect(host.writes.slice(1).map((w) => w.slice(0, 2))).toEqual([wholeWrites('mangle'), wholeWrites('filter')])
    const lines = host.writes[0].join('').split('\n').slice(0, -1)
    // never a chain the kernel might not hold before a rule listed jumps to it
    expect(lines.indexOf('-S KUBE-SERVICES')).toBeGreaterThan(lines.indexOf('-S PREROUTING'))
    expect(lines.at(-1)).toBe('COMMIT')
    expect(lines.filter((l) => l === '-S KUBE-SEP-B1')).toEqual([])
    expect(host.ended).toBe(3)
  })

  it('gives up where a start chain is reached by no rule (it may not be there), where a restore ends early, or where a table listing fails', async () => {
    const {'KUBE-NODEPORTS': _unreached, ...withoutJump} = nat
    const noJump = {...withoutJump, 'KUBE-SERVICES': nat['KUBE-SERVICES'].split('\n').filter((l) => !l.includes('KUBE-NODEPORTS')).join('\n'), 'KUBE-NODEPORTS': '-N KUBE-NODEPORTS\n'}
    const {'KUBE-SEP-A1': _missing, ...broken} = nat
    for (const tables of [{nat: noJump, filter, mangle}, {nat: broken, filter, mangle}, {nat, filter: '-P INPUT ACCEPT\nodd\n', mangle}]) {
      const host = new RestoreHost(tables)
      expect(await readLegacyPath(startLegacyReads(host, 0, 'nat\nfilter\nmangle\n', '10.96.0.1'), '10.96.0.1')).toBeUndefined()
      expect(host.ended).toBe(3)
    }
  })

  it('names no table the kernel does not list (its module would load)', async () => {
    const host = new RestoreHost({nat, filter, mangle})
    const read = await readLegacyPath(startLegacyReads(host, 1, 'filter\n', '10.96.0.1'), '10.96.0.1')
    expect(host.writes.map((w) => w[0])).toEqual(['*filter\n'])
    expect(read).toEqual({text: '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n-A FORWARD -j KUBE-SERVICES\nCOMMIT\n', hinted: false})
  })
})
