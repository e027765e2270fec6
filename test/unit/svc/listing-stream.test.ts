import {describe, expect, it} from 'vitest'
import {type Host, type FedProgram, type FedListeners, Warnings} from '../../../src/host/host.js'
import {ListingReader, ListingStreams, batchInput, batchListings, listerArgv, restorableChain, restoreInput, restoreListings, streamableChain} from '../../../src/svc/listing-stream.js'
import {pathLines, readChainListing} from '../../../src/svc/iptables-path.js'

// what the lister prints for `-t nat -S KUBE-SVC-...`, `-S KUBE-SEP-...` (iptables v1.8.9)
const SVC = `-N KUBE-SVC-AAAAAAAAAAAAAAAA
-A KUBE-SVC-AAAAAAAAAAAAAAAA -m comment --comment "ns7/svc-7:http -> 10.128.0.5:8080" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-CCCCCCCCCCCCCCCC
-A KUBE-SVC-AAAAAAAAAAAAAAAA -m comment --comment "ns7/svc-7:http -> 10.128.0.6:8080" -j KUBE-SEP-DDDDDDDDDDDDDDDD
`
const SEP = `-N KUBE-SEP-CCCCCCCCCCCCCCCC
-A KUBE-SEP-CCCCCCCCCCCCCCCC -s 10.128.0.5/32 -m comment --comment "ns7/svc-7:http" -j KUBE-MARK-MASQ
-A KUBE-SEP-CCCCCCCCCCCCCCCC -p tcp -m comment --comment "ns7/svc-7:http" -m tcp -j DNAT --to-destination 10.128.0.5:8080
`
const MARKER = 'nodedoc: end of batch\n'
const SERVICES_3 = `-N KUBE-SERVICES
-A KUBE-SERVICES -d 10.96.0.7/32 -p tcp -m comment --comment "ns7/svc-7:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-AAAAAAAAAAAAAAAA
-A KUBE-SERVICES -d 10.96.0.8/32 -p tcp -m comment --comment "ns8/svc-8:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-BBBBBBBBBBBBBBBB
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
`

describe('ListingReader', () => {
  it('cuts stdout into batches at the marker lines, wherever the pieces break', () => {
    const stdout = SVC + SEP + MARKER + MARKER + '-P PREROUTING ACCEPT\n# Warning: iptables-legacy tables present, use iptables-legacy to see them\n' + MARKER
    for (let cut = 0; cut <= stdout.length; cut++) {
      const reader = new ListingReader()
      const batches = [...reader.push(stdout.slice(0, cut)), ...reader.push(stdout.slice(cut))]
      expect(batches.map((b) => b.text)).toEqual([SVC + SEP, '', '-P PREROUTING ACCEPT\n# Warning: iptables-legacy tables present, use iptables-legacy to see them\n'])
      expect(batches.every((b) => !b.garbled)).toBe(true)
    }
  })

  it('holds a batch back until its marker line is whole', () => {
    const reader = new ListingReader()
    expect(reader.push(SVC + 'nodedoc: end')).toEqual([])
    expect(reader.push(' of batch\n')).toEqual([{text: SVC, garbled: false}])
  })

  it('calls a batch garbled when it holds a line no listing prints, and the next batch is clean again', () => {
    const reader = new ListingReader()
    const batches = reader.push(SVC + 'iptables v1.8.9 (nf_tables): chain `X\' in table `nat\' is incompatible\n' + MARKER + SEP + MARKER)
    expect(batches).toEqual([{text: '', garbled: true}, {text: SEP, garbled: false}])
  })

  it('calls a batch garbled when it goes on past its cap (64 MiB) without a marker, without keeping it', () => {
    const reader = new ListingReader(4096)
    const line = '-A KUBE-SERVICES ' + 'x'.repeat(1000) + '\n'
    for (let i = 0; i < 10; i++) expect(reader.push(line)).toEqual([])
    expect(reader.push(MARKER + SEP + MARKER)).toEqual([{text: '', garbled: true}, {text: SEP, garbled: false}])
    // and one line that never ends
    const long = new ListingReader(4096)
    for (let i = 0; i < 10; i++) expect(long.push('x'.repeat(1000))).toEqual([])
    expect(long.push('\n' + MARKER)).toEqual([{text: '', garbled: true}])
  })
})

describe('ListingReader with a filter (pathLines) for a batch', () => {
  // KUBE-SERVICES as iptables-nft -S lists it, a few hundred services
  const services = ['-N KUBE-SERVICES\n', ...Array.from({length: 300}, (_, i) =>
    `-A KUBE-SERVICES -d 10.96.${i >> 8}.${i & 255}/32 -p tcp -m comment --comment "ns${i % 50}/svc-${i}:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-${String(i).padStart(16, 'A')}\n`),
  '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\n'].join('')
  const hint = 'ns7/svc-7'
  const filter = pathLines('KUBE-SERVICES', hint)!

  it('keeps of a filtered batch what its filter keeps, the next batch whole, wherever the pieces break', () => {
    const stdout = services + MARKER + SVC + MARKER
    const kept = filter(services)
    expect(kept.split('\n')).toHaveLength(4)
    expect(readChainListing('KUBE-SERVICES', kept, hint)).toEqual(readChainListing('KUBE-SERVICES', services, hint))
    for (let cut = 0; cut <= stdout.length; cut += 7) {
      const reader = new ListingReader()
      // the filters of the batches still to end, as the lane's queue gives them at each piece
      const first = reader.push(stdout.slice(0, cut), [filter, undefined])
      const batches = [...first, ...reader.push(stdout.slice(cut), first.length ? [undefined] : [filter, undefined])]
      expect(batches).toEqual([{text: kept, garbled: false, filled: true}, {text: SVC, garbled: false}])
    }
  })

  it('garbles a filtered batch holding a line no listing prints, or another chain\'s line, and says when its text was blank', () => {
    const reader = new ListingReader()
    const odd = services.replace('-A KUBE-SERVICES -d 10.96.0.9/32', 'Segmentation fault\n-A KUBE-SERVICES -d 10.96.0.9/32')
    expect(reader.push(odd + MARKER + SEP + MARKER, [filter])).toEqual([{text: '', garbled: true}, {text: SEP, garbled: false}])
    const other = services.replace('-A KUBE-SERVICES -d 10.96.0.9/32', '-A KUBE-SVC-OTHER -d 10.96.0.9/32')
    const [batch] = new ListingReader().push(other + MARKER, [filter])
    expect(batch.garbled).toBe(false)
    expect(batchListings(batch.text, ['KUBE-SERVICES'], batch.filled)).toBeUndefined()
    // a chain that is not there (nothing printed), and one whose every line the filter drops
    const [absent, dropped] = new ListingReader().push(MARKER + services.split('\n')[9] + '\n' + MARKER, [filter, filter])
    expect(absent).toEqual({text: '', garbled: false, filled: false})
    expect(dropped).toEqual({text: '', garbled: false, filled: true})
    expect(batchListings(absent.text, ['KUBE-SERVICES'], absent.filled)?.get('KUBE-SERVICES')?.exitCode).toBe(1)
    expect(batchListings(dropped.text, ['KUBE-SERVICES'], dropped.filled)?.get('KUBE-SERVICES')).toEqual({stdout: '', stderr: '', exitCode: 0})
  })

  it('counts what the filter drops against the cap', () => {
    const reader = new ListingReader(services.length - 1)
    expect(reader.push(services + MARKER + SEP + MARKER, [filter])).toEqual([{text: '', garbled: true}, {text: SEP, garbled: false}])
  })
})

describe('batchListings', () => {
  it('gives each chain asked for its own listing, a chain not there exit 1', () => {
    const listed = batchListings(SVC + SEP, ['KUBE-SVC-AAAAAAAAAAAAAAAA', 'KUBE-SEP-CCCCCCCCCCCCCCCC', 'KUBE-SEP-DDDDDDDDDDDDDDDD'])!
    expect(listed.get('KUBE-SVC-AAAAAAAAAAAAAAAA')).toEqual({stdout: SVC, stderr: '', exitCode: 0})
    expect(listed.get('KUBE-SEP-CCCCCCCCCCCCCCCC')).toEqual({stdout: SEP, stderr: '', exitCode: 0})
    expect(listed.get('KUBE-SEP-DDDDDDDDDDDDDDDD')).toEqual({stdout: '', stderr: '', exitCode: 1})
  })

  it('tells apart names longer than iptables allows, and a name that begins another', () => {
    const long = 'KUBE-SEP-' + 'L'.repeat(200)
    const text = `-N ${long}\n-A ${long} -j DNAT --to-destination 10.0.0.1:80\n-N ${long}X\n-A ${long}X -j RETURN\n`
    const listed = batchListings(text, [long, `${long}X`])!
    expect(listed.get(long)!.stdout).toBe(`-N ${long}\n-A ${long} -j DNAT --to-destination 10.0.0.1:80\n`)
    expect(listed.get(`${long}X`)!.stdout).toBe(`-N ${long}X\n-A ${long}X -j RETURN\n`)
    // one chain alone is taken as it is, once no line names another (not even one it begins)
    expect(batchListings(text, [long])).toBeUndefined()
    expect(batchListings(`-N ${long}\n`, [long])!.get(long)!.stdout).toBe(`-N ${long}\n`)
  })

  it('refuses a batch holding a chain that was not asked for (out of step)', () => {
    expect(batchListings(SVC + SEP, ['KUBE-SVC-AAAAAAAAAAAAAAAA'])).toBeUndefined()
    expect(batchListings(SVC + SEP, ['KUBE-SVC-AAAAAAAAAAAAAAAA', 'KUBE-SEP-DDDDDDDDDDDDDDDD'])).toBeUndefined()
    expect(batchListings('', ['KUBE-SERVICES'])?.get('KUBE-SERVICES')?.exitCode).toBe(1)
  })
})

describe('batchInput and streamableChain', () => {
  it('writes one line per listing, then the line that ends the batch', () => {
    expect(batchInput('nat', ['A', 'B'])).toBe('nat A\nnat B\nend\n')
    expect(batchInput('filter', null)).toBe('filter\nend\n')
  })

  it('keeps names that would read as options or split an argument off the stream', () => {
    expect(streamableChain('KUBE-SVC-AAAAAAAAAAAAAAAA')).toBe(true)
    expect(streamableChain('-V')).toBe(false)
    expect(streamableChain('A\0B')).toBe(false)
    expect(streamableChain('A B')).toBe(false)
    expect(streamableChain('A\nB')).toBe(false)
    expect(streamableChain('A\tB')).toBe(false)
    expect(streamableChain('')).toBe(false)
  })
})

describe('restoreInput, restorableChain and restoreListings', () => {
  const SEP2 = SEP.replaceAll('CCCCCCCCCCCCCCCC', 'DDDDDDDDDDDDDDDD')
  const [svc, sep, sep2] = ['KUBE-SVC-AAAAAAAAAAAAAAAA', 'KUBE-SEP-CCCCCCCCCCCCCCCC', 'KUBE-SEP-DDDDDDDDDDDDDDDD']

  it('writes one restore line of the table and its chains, then the line that ends the batch', () => {
    expect(restoreInput('filter', ['INPUT', 'KUBE-FORWARD'])).toBe('restore filter INPUT KUBE-FORWARD\nend\n')
  })

  it('takes only names restore reads as one word as they are, and the lister does not glob', () => {
    for (const chain of ['KUBE-SEP-ABC', 'cali-FORWARD', 'a.b+c@d:e_f', 'X-', '0']) expect(restorableChain(chain), chain).toBe(true)
    for (const chain of ['-t', '-S', 'a b', 'a"b', "a'b", 'a\\b', '#x', 'a#', '*', 'a*', 'a?', '[a]', 'a$b', 'a;b', '', 'a\nb', 'a\tb']) expect(restorableChain(chain), chain).toBe(false)
  })

  it('gives every chain asked its listing when the restore ended well, and garbles one that left a chain out', () => {
    expect(restoreListings(SVC + SEP, [svc, sep])).toEqual({listed: new Map([[svc, {stdout: SVC, stderr: '', exitCode: 0}], [sep, {stdout: SEP, stderr: '', exitCode: 0}]]), rest: []})
    expect(restoreListings(SVC, [svc, sep])).toBeUndefined()
    expect(restoreListings('', [svc, sep])).toBeUndefined()
  })

  it('where it stopped (exit 1): the chains before, that one as not there, the rest still to ask', () => {
    const read = restoreListings(SVC + 'nodedoc: restore exit 1\n', [svc, sep, sep2])
    expect(read).toEqual({listed: new Map([[svc, {stdout: SVC, stderr: '', exitCode: 0}], [sep, {stdout: '', stderr: '', exitCode: 1}]]), rest: [sep2]})
    expect(restoreListings('nodedoc: restore exit 1\n', [svc, sep])).toEqual({listed: new Map([[svc, {stdout: '', stderr: '', exitCode: 1}]]), rest: [sep]})
  })

  it('learns nothing from another exit, or exit 1 after every chain', () => {
    expect(restoreListings('nodedoc: restore exit 2\n', [svc, sep])).toBe('failed')
    expect(restoreListings(SVC + 'nodedoc: restore exit 127\n', [svc, sep])).toBe('failed')
    expect(restoreListings(SVC + SEP + 'nodedoc: restore exit 1\n', [svc, sep])).toBe('failed')
  })

  it('garbles a chain not asked for, chains out of order, or an exit line that is not last', () => {
    expect(restoreListings(SVC + SEP2, [svc, sep])).toBeUndefined()
    expect(restoreListings(SEP + SVC, [svc, sep])).toBeUndefined()
    expect(restoreListings('nodedoc: restore exit 1\n' + SVC, [svc, sep])).toBeUndefined()
    expect(restoreListings(SVC + 'nodedoc: restore exit 1\nnodedoc: restore exit 1\n', [svc, sep, sep2])).toBeUndefined()
    expect(restoreListings(SVC + 'nodedoc: restore exit x\n', [svc, sep])).toBeUndefined()
  })

  it('the reader keeps the exit line in its batch, not garbled', () => {
    expect(new ListingReader().push(SVC + 'nodedoc: restore exit 1\n' + MARKER)).toEqual([{text: SVC + 'nodedoc: restore exit 1\n', garbled: false}])
  })
})

/**
 * A host whose streams act as the lister of iptables-nft on chains given as text (answer:
 * false: a stream that takes its input and never prints).
 */
class StreamHost {
  readonly warnings = new Warnings()
  readonly streams: Array<{argv: string[]; written: string; closed: boolean; listeners: FedListeners}> = []
  /** each restore line: its table and chains */
  readonly restores: string[][] = []
  constructor(private readonly chains: Record<string, string>, private readonly answer: (n: number) => boolean | 'garble' = () => true) {}
  feed(argv: string[], listeners: FedListeners): FedProgram {
    const s = {argv, written: '', closed: false, listeners}
    const n = this.streams.push(s) - 1
    const end = () => {
      if (s.closed) return
      s.closed = true
      setTimeout(() => listeners.exit(null), 1)
    }
    return {
      write: (text) => {
        s.written += text
        const how = this.answer(n)
        if (!how || s.closed) return
        let out = ''
        for (const line of text.split('\n').slice(0, -1)) {
          const [table, chain, ...more] = line.split(' ')
          if (table === 'restore') {
            // as iptables-nft-restore: each chain's listing, up to the first that is not there
            this.restores.push([chain, ...more])
            const stop = more.findIndex((c) => this.chains[c] === undefined)
            out += more.slice(0, stop < 0 ? more.length : stop).map((c) => this.chains[c]).join('') + (stop < 0 ? '' : 'nodedoc: restore exit 1\n')
            continue
          }
          out += table === 'end' ? MARKER : chain === undefined ? Object.values(this.chains).join('') : (this.chains[chain] ?? '')
        }
        if (how === 'garble') out = 'Segmentation fault\n' + out
        setTimeout(() => listeners.stdout(out), 1)
      },
      close: () => end(),
      kill: () => end(),
    }
  }
}

const asHost = (h: StreamHost) => h as unknown as Host

describe('ListingStreams', () => {
  const chains = {'KUBE-SVC-AAAAAAAAAAAAAAAA': SVC, 'KUBE-SEP-CCCCCCCCCCCCCCCC': SEP}

  it('lists chains through lister streams and shares a long list out over them', async () => {
    const host = new StreamHost(chains)
    const streams = ListingStreams.open(asHost(host), 'iptables-nft', 2)!
    expect(host.streams.map((s) => s.argv)).toEqual([listerArgv('iptables-nft'), listerArgv('iptables-nft')])
    const one = await streams.list('nat', ['KUBE-SVC-AAAAAAAAAAAAAAAA'])
    expect(one?.get('KUBE-SVC-AAAAAAAAAAAAAAAA')?.stdout).toBe(SVC)
    const seps = ['KUBE-SEP-CCCCCCCCCCCCCCCC', ...Array.from({length: 9}, (_, i) => `KUBE-SEP-${i}`)]
    const many = await streams.list('nat', seps)
    expect([...many!.keys()].sort()).toEqual([...seps].sort())
    expect(many!.get('KUBE-SEP-CCCCCCCCCCCCCCCC')?.stdout).toBe(SEP)
    expect(many!.get('KUBE-SEP-0')?.exitCode).toBe(1)
    // both streams took a share
    expect(host.streams.every((s) => s.written.includes('KUBE-SEP-'))).toBe(true)
    streams.close()
    expect(host.streams.every((s) => s.closed)).toBe(true)
  })

  it('lists several chains by one restore, and after a chain that stops it the rest by the next one, the last alone one by one', async () => {
    const host = new StreamHost(chains)
    const streams = ListingStreams.open(asHost(host), 'iptables-nft', 2)!
    const [svc, sep] = Object.keys(chains)
    const all = await streams.restore('nat', [svc, sep])
    expect(all?.get(svc)?.stdout).toBe(SVC)
    expect(all?.get(sep)?.stdout).toBe(SEP)
    const some = await streams.restore('nat', [svc, 'KUBE-SEP-NOT-THERE', sep, 'KUBE-SEP-GONE', 'KUBE-MARK-MASQ'])
    expect([...some!].map(([c, r]) => [c, r.exitCode])).toEqual([[svc, 0], ['KUBE-SEP-NOT-THERE', 1], [sep, 0], ['KUBE-SEP-GONE', 1], ['KUBE-MARK-MASQ', 1]])
    expect(some?.get(sep)?.stdout).toBe(SEP)
    expect(host.restores).toEqual([['nat', svc, sep], ['nat', svc, 'KUBE-SEP-NOT-THERE', sep, 'KUBE-SEP-GONE', 'KUBE-MARK-MASQ'], ['nat', sep, 'KUBE-SEP-GONE', 'KUBE-MARK-MASQ']])
    expect(host.streams.some((s) => s.written.includes('nat KUBE-MARK-MASQ\n'))).toBe(true)
    // a name restore would not read as it is: one by one, the others by restore
    const odd = await streams.restore('nat', [svc, 'odd"name', sep])
    expect([...odd!.keys()].sort()).toEqual([sep, svc, 'odd"name'].sort())
    expect(host.restores.at(-1)).toEqual(['nat', svc, sep])
    expect(host.streams.some((s) => s.written.includes('nat odd"name\n'))).toBe(true)
    streams.close()
  })

  it('drops a stream whose restore left a chain out though it ended well', async () => {
    const host = new StreamHost(chains)
    const streams = ListingStreams.open(asHost(host), 'iptables-nft', 1)!
    // the stand-in prints a listing of another chain's name for this one
    ;(host as unknown as {chains: Record<string, string>}).chains['KUBE-SEP-ODD'] = SVC
    expect(await streams.restore('nat', ['KUBE-SEP-CCCCCCCCCCCCCCCC', 'KUBE-SEP-ODD'])).toBeUndefined()
    expect(host.streams[0].closed).toBe(true)
  })

  it('keeps of one chain\'s listing the lines its filter keeps', async () => {
    const host = new StreamHost({'KUBE-SERVICES': SERVICES_3})
    const streams = ListingStreams.open(asHost(host), 'iptables-nft', 1)!
    const listed = await streams.list('nat', ['KUBE-SERVICES'], pathLines('KUBE-SERVICES', 'ns7/svc-7'))
    expect(listed?.get('KUBE-SERVICES')?.stdout).toBe(SERVICES_3.split('\n').filter((l, i) => i !== 2).join('\n'))
    streams.close()
  })

  it('gives up on a stream that never answers: a warning, not a hang, and the stream is ended', async () => {
    const host = new StreamHost(chains, () => false)
    const streams = ListingStreams.open(asHost(host), 'iptables-nft', 1, 50)!
    expect(await streams.list('nat', ['KUBE-SVC-AAAAAAAAAAAAAAAA'])).toBeUndefined()
    expect(host.warnings.list()).toEqual(['iptables-nft listings through sh gave no answer within 0.05 s: listed one by one instead'])
    expect(host.streams[0].closed).toBe(true)
    // nothing more goes to it
    expect(await streams.list('nat', ['KUBE-SEP-CCCCCCCCCCCCCCCC'])).toBeUndefined()
  })

  it('drops a stream that prints what no listing prints, and goes on with the other', async () => {
    const host = new StreamHost(chains, (n) => (n === 0 ? 'garble' : true))
    const streams = ListingStreams.open(asHost(host), 'iptables-nft', 2)!
    expect(await streams.list('nat', ['KUBE-SVC-AAAAAAAAAAAAAAAA'])).toBeUndefined()
    expect(host.streams[0].closed).toBe(true)
    expect((await streams.list('nat', ['KUBE-SVC-AAAAAAAAAAAAAAAA']))?.get('KUBE-SVC-AAAAAAAAAAAAAAAA')?.stdout).toBe(SVC)
    streams.close()
  })

  it('answers undefined for what was waiting when a stream ends (sh not there, or killed)', async () => {
    const host = new StreamHost(chains, () => false)
    const streams = ListingStreams.open(asHost(host), 'iptables-nft', 1)!
    const waiting = streams.list('nat', ['KUBE-SVC-AAAAAAAAAAAAAAAA'])
    host.streams[0].listeners.exit(undefined)
    expect(await waiting).toBeUndefined()
    expect(host.warnings.list()).toEqual([])
  })

  it('is not there on a host that keeps no program running (a snapshot), nor for a name that is not one argument', async () => {
    expect(ListingStreams.open({} as Host, 'iptables-nft', 2)).toBeUndefined()
    const host = new StreamHost(chains)
    const streams = ListingStreams.open(asHost(host), 'iptables-nft', 1)!
    expect(await streams.list('nat', ['-V'])).toBeUndefined()
    expect(host.streams[0].written).toBe('')
    streams.close()
  })
})

describe('the lister (a real sh)', () => {
  it('runs a restore only as `PROGRAM-restore --noflush` (without it a restore flushes the table): the script\'s one restore, a constant', () => {
    for (const program of ['iptables-nft', 'ip6tables-nft']) {
      const [sh, c, script, name, arg] = listerArgv(program)
      expect([sh, c, name, arg]).toEqual(['sh', '-c', 'nodedoc-lister', program])
      // $r is set once, from the program, and run in one place, with --noflush after it
      expect(script.match(/\br=/g)).toEqual(['r='])
      expect(script).toContain(' r=$1-restore;')
      expect(script.match(/\$r\b/g)).toEqual(['$r'])
      expect(script).toContain('| "$r" --noflush ||')
      // no other program of the restore family named
      expect(script.replace(/r=\$1-restore;|\[ "\$t" = restore \]|nodedoc: restore exit/g, '')).not.toMatch(/restore/)
    }
  })

  it('feeds a restore batch to PROGRAM-restore --noflush, one `-S` line per chain, and says how it exited', async () => {
    const {mkdtempSync, rmSync, writeFileSync, readFileSync} = await import('node:fs')
    const {tmpdir} = await import('node:os')
    const {join} = await import('node:path')
    const {spawnFed} = await import('../../../src/host/fed.js')
    const dir = mkdtempSync(join(tmpdir(), 'nodedoc-lister-'))
    try {
      const program = join(dir, 'iptables-nft')
      writeFileSync(program, '#!/bin/sh\nexit 3\n', {mode: 0o755})
      // a stand-in for iptables-nft-restore: keeps its arguments and input, lists up to a chain named ABSENT
      writeFileSync(program + '-restore', `#!/bin/sh\nprintf '%s\\n' "$*" >> ${dir}/argv\nwhile read -r a b; do printf '%s %s\\n' "$a" "$b" >> ${dir}/input; [ "$a" = -S ] || continue; [ "$b" = ABSENT ] && exit 1; printf -- '-N %s\\n' "$b"; done\n`, {mode: 0o755})
      let out = ''
      const exited = new Promise((resolve) => {
        const lister = spawnFed(listerArgv(program), {stdout: (chunk) => (out += chunk), exit: resolve})
        lister.write(restoreInput('nat', ['KUBE-SEP-A', 'a.b+c@d:e_f', 'X*']))
        lister.write(restoreInput('filter', ['INPUT', 'ABSENT', 'FORWARD']))
        lister.close()
      })
      expect(await exited).toBe(0)
      expect(new ListingReader().push(out)).toEqual([
        {text: '-N KUBE-SEP-A\n-N a.b+c@d:e_f\n-N X*\n', garbled: false},
        {text: '-N INPUT\nnodedoc: restore exit 1\n', garbled: false},
      ])
      expect(readFileSync(join(dir, 'argv'), 'utf8')).toBe('--noflush\n--noflush\n')
      expect(readFileSync(join(dir, 'input'), 'utf8')).toBe('*nat \n-S KUBE-SEP-A\n-S a.b+c@d:e_f\n-S X*\nCOMMIT \n*filter \n-S INPUT\n-S ABSENT\n')
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  // started by nodedoc, and started before the CLI loaded by the launcher's bash (src/host/spawner.ts)
  it.each(['by nodedoc', 'by the launcher\'s shell'])('passes each chain name as one argument, whatever it holds, ends each batch with the marker, and garbles a listing that was killed (started %s)', async (how) => {
    const {mkdtempSync, rmSync, writeFileSync, readdirSync} = await import('node:fs')
    const {tmpdir} = await import('node:os')
    const {join} = await import('node:path')
    const {spawnFed} = await import('../../../src/host/fed.js')
    const {startEarly} = await import('../../../src/host/early.js')
    const dir = mkdtempSync(join(tmpdir(), 'nodedoc-lister-'))
    try {
      // a stand-in for iptables-nft: prints its arguments as a listing would, one chain dies of a signal
      const program = join(dir, 'iptables-nft')
      writeFileSync(program, '#!/bin/sh\n[ "$4" = KILL-ME ] && kill -TERM $$\nprintf -- \'-N %s|%s|%s|%s\\n\' "$@"\n', {mode: 0o755})
      const hostile = ['$(touch${IFS}PWNED)', '`touch${IFS}PWNED`', '*', 'a;touch${IFS}PWNED', '"q\'', 'back\\slash', '${IFS}x', 'end']
      for (const chain of hostile) expect(streamableChain(chain), chain).toBe(true)
      let out = ''
      // through the shell: with a run beside it (one start alone is started directly)
      if (how !== 'by nodedoc') startEarly({feeds: [{argv: listerArgv(program), writes: []}], runs: [{argv: ['true']}]})
      const exited = new Promise((resolve) => {
        const lister = spawnFed(listerArgv(program), {stdout: (chunk) => (out += chunk), exit: resolve})
        lister.write(batchInput('nat', hostile))
        lister.write(batchInput('filter', null))
        lister.write(batchInput('nat', ['KILL-ME']))
        lister.close()
      })
      expect(await exited).toBe(0)
      const reader = new ListingReader()
      expect(reader.push(out)).toEqual([
        {text: hostile.map((chain) => `-N -t|nat|-S|${chain}\n`).join(''), garbled: false},
        {text: '-N -t|filter|-S|\n', garbled: false},
        {text: '', garbled: true},
      ])
      expect(readdirSync(dir)).toEqual(['iptables-nft'])
      expect(readdirSync(process.cwd())).not.toContain('PWNED')
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
