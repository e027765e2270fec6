import {describe, expect, it} from 'vitest'
import {type ChainListing, type PathTable, mentions, pathLines, readChainListing, ruleTarget, saveText, tableChains, walkPath} from '../../../src/svc/iptables-path.js'
import {parseIptablesSave} from '../../../src/parse/iptables.js'

// iptables v1.8.9 (nf_tables) `-t nat -S KUBE-SERVICES` / `-S KUBE-SVC-...` on bench/svc-gen.mjs rules
const SERVICES = `-N KUBE-SERVICES
-A KUBE-SERVICES -d 10.96.0.7/32 -p tcp -m comment --comment "ns7/svc-7:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-AAAAAAAAAAAAAAAA
-A KUBE-SERVICES -d 10.96.0.8/32 -p tcp -m comment --comment "ns8/svc-8:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-BBBBBBBBBBBBBBBB
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
`
const SVC = `-N KUBE-SVC-AAAAAAAAAAAAAAAA
-A KUBE-SVC-AAAAAAAAAAAAAAAA ! -s 10.0.0.0/8 -d 10.96.0.7/32 -p tcp -m comment --comment "ns7/svc-7:http cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ
-A KUBE-SVC-AAAAAAAAAAAAAAAA -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-CCCCCCCCCCCCCCCC
-A KUBE-SVC-AAAAAAAAAAAAAAAA -j KUBE-SEP-DDDDDDDDDDDDDDDD
`

describe('readChainListing', () => {
  it('keeps the wanted service\'s rules of a shared chain, and the rules that are no service\'s', () => {
    const listing = readChainListing('KUBE-SERVICES', SERVICES, 'ns7/svc-7')
    expect(listing.rules.map((r) => / -j (\S+)/.exec(r)?.[1])).toEqual(['KUBE-SVC-AAAAAAAAAAAAAAAA', 'KUBE-NODEPORTS'])
    expect(listing.next).toEqual(['KUBE-SVC-AAAAAAAAAAAAAAAA', 'KUBE-NODEPORTS'])
    expect(listing.policy).toBeNull()
  })

  it('follows a service\'s own chain whole, comments or not (none past 1000 endpoints)', () => {
    const listing = readChainListing('KUBE-SVC-AAAAAAAAAAAAAAAA', SVC, 'ns7/svc-7')
    expect(listing.rules).toHaveLength(3)
    expect(listing.next).toEqual(['KUBE-MARK-MASQ', 'KUBE-SEP-CCCCCCCCCCCCCCCC', 'KUBE-SEP-DDDDDDDDDDDDDDDD'])
  })

  it('reads a built-in chain\'s policy and does not follow extension targets', () => {
    const listing = readChainListing('POSTROUTING', '-P POSTROUTING ACCEPT\n-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING\n-A POSTROUTING -j MASQUERADE\n', 'x')
    expect(listing.policy).toBe('ACCEPT')
    expect(listing.next).toEqual(['KUBE-POSTROUTING'])
  })
})

describe('ruleTarget', () => {
  it('reads the target after the last quoted string, as the parser does', () => {
    expect(ruleTarget('-A KUBE-SERVICES -d 10.96.0.8/32 -j KUBE-SVC-BBBBBBBBBBBBBBBB')).toBe('KUBE-SVC-BBBBBBBBBBBBBBBB')
    expect(ruleTarget('-A KUBE-SERVICES -m comment --comment "x -j DROP" -d 10.96.0.8/32 -g KUBE-SVC-BBBBBBBBBBBBBBBB')).toBe('KUBE-SVC-BBBBBBBBBBBBBBBB')
    expect(ruleTarget('-A X -m comment --comment "x -j DROP"')).toBeUndefined()
    expect(ruleTarget('-A X --jump RETURN')).toBe('RETURN')
  })
})

describe('mentions', () => {
  it('finds a name or an address as a whole word only', () => {
    expect(mentions('-d 10.96.0.7/32 -p tcp', '10.96.0.7')).toBe(true)
    expect(mentions('-d 10.96.0.70/32 -p tcp', '10.96.0.7')).toBe(false)
    expect(mentions('-d 110.96.0.7/32 -p tcp', '10.96.0.7')).toBe(false)
    expect(mentions('--comment "ns7/svc-7:http cluster IP"', '/svc-7')).toBe(true)
    expect(mentions('--comment "ns7/svc-70:http cluster IP"', '/svc-7')).toBe(false)
    expect(mentions('--comment ns7/svc-7', 'ns7/svc-7')).toBe(true)
    expect(mentions('-d fd00::7/128', 'fd00::7')).toBe(true)
    expect(mentions('-d fd00::7:1/128', 'fd00::7')).toBe(false)
  })
})

describe('saveText', () => {
  it('is iptables-save text the parser reads back, chains declared before rules', () => {
    const text = saveText(new Map([['nat', new Map([
      ['KUBE-SERVICES', readChainListing('KUBE-SERVICES', SERVICES, 'ns7/svc-7')],
      ['KUBE-SVC-AAAAAAAAAAAAAAAA', readChainListing('KUBE-SVC-AAAAAAAAAAAAAAAA', SVC, 'ns7/svc-7')],
    ])], ['filter', new Map()]]))
    expect(text.split('\n').slice(0, 3)).toEqual(['*nat', ':KUBE-SERVICES - [0:0]', ':KUBE-SVC-AAAAAAAAAAAAAAAA - [0:0]'])
    const nat = parseIptablesSave(text).tables.get('nat')!
    expect(nat.chains.get('KUBE-SVC-AAAAAAAAAAAAAAAA')?.rules).toHaveLength(3)
    expect(nat.chains.get('KUBE-SERVICES')?.rules).toHaveLength(2)
  })
})

// iptables v1.8.9 (nf_tables) `-t filter -S` in a netns holding bench/svc-gen.mjs rules with kube-proxy's hooks
const FILTER = `-P INPUT ACCEPT
-P FORWARD ACCEPT
-P OUTPUT ACCEPT
-N KUBE-EXTERNAL-SERVICES
-N KUBE-SERVICES
-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES
-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A KUBE-SERVICES -d 10.96.0.9/32 -p tcp -m comment --comment "ns9/svc-9:http has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable
`

describe('tableChains', () => {
  it('cuts a whole table\'s listing into each chain\'s own -S listing', () => {
    const chains = tableChains(FILTER)
    expect([...chains.keys()]).toEqual(['INPUT', 'FORWARD', 'OUTPUT', 'KUBE-EXTERNAL-SERVICES', 'KUBE-SERVICES'])
    expect(chains.get('OUTPUT')).toBe('-P OUTPUT ACCEPT\n-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES\n')
    expect(chains.get('KUBE-EXTERNAL-SERVICES')).toBe('-N KUBE-EXTERNAL-SERVICES\n')
    expect(readChainListing('KUBE-SERVICES', chains.get('KUBE-SERVICES')!, 'ns9/svc-9').rules).toHaveLength(1)
  })
})

describe('walkPath', () => {
  const listings: Record<string, string> = {
    'nat PREROUTING': '-P PREROUTING ACCEPT\n-A PREROUTING -j KUBE-SERVICES\n',
    'nat KUBE-SERVICES': SERVICES,
    'nat KUBE-SVC-AAAAAAAAAAAAAAAA': SVC,
    'nat KUBE-SEP-CCCCCCCCCCCCCCCC': '-N KUBE-SEP-CCCCCCCCCCCCCCCC\n-A KUBE-SEP-CCCCCCCCCCCCCCCC -p tcp -m tcp -j DNAT --to-destination 10.0.0.1:80\n',
    'nat KUBE-SEP-DDDDDDDDDDDDDDDD': '-N KUBE-SEP-DDDDDDDDDDDDDDDD\n-A KUBE-SEP-DDDDDDDDDDDDDDDD -p tcp -m tcp -j DNAT --to-destination 10.0.0.2:80\n',
    ...Object.fromEntries([...tableChains(FILTER)].map(([chain, text]) => [`filter ${chain}`, text])),
  }
  const list = (delay: (key: string) => number) => async (table: PathTable, chain: string): Promise<ChainListing | null> => {
    const key = `${table} ${chain}`
    await new Promise((resolve) => setTimeout(resolve, delay(key)))
    return listings[key] === undefined ? null : readChainListing(chain, listings[key], 'ns7/svc-7')
  }
  const order = (tables: Map<PathTable, Map<string, ChainListing>> | undefined) => [...(tables ?? new Map()).entries()].map(([t, chains]) => [t, [...chains.keys()]])

  it('reaches the chains on the path, in the same order however late each listing comes in', async () => {
    const fast = await walkPath(list(() => 0))
    expect(order(fast)).toEqual([
      ['nat', ['PREROUTING', 'KUBE-SERVICES', 'KUBE-SVC-AAAAAAAAAAAAAAAA', 'KUBE-SEP-CCCCCCCCCCCCCCCC', 'KUBE-SEP-DDDDDDDDDDDDDDDD']],
      ['filter', ['INPUT', 'FORWARD', 'OUTPUT', 'KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES']],
    ])
    // KUBE-SERVICES last in, the SEPs in reverse: the same tables
    const slow = await walkPath(list((key) => (key === 'nat KUBE-SERVICES' ? 30 : key.includes('SEP-C') ? 20 : 1)))
    expect(order(slow)).toEqual(order(fast))
    expect(saveText(slow!)).toBe(saveText(fast!))
  })

  it('gives up when a listing cannot be had (the program is not there)', async () => {
    expect(await walkPath(async (table, chain) => (chain === 'KUBE-SVC-AAAAAAAAAAAAAAAA' ? undefined : list(() => 0)(table, chain)))).toBeUndefined()
  })
})

describe('readChainListing on a shared chain of many services', () => {
  // each rule read alone, as ruleTarget and mentions read it: what the quick drop must agree with
  const oneByOne = (chain: string, text: string, hint: string) => {
    const out: ChainListing = {policy: null, rules: [], next: []}
    for (const line of text.split('\n')) {
      const listing = readChainListing(`${chain}`, line, hint)
      out.policy = listing.policy ?? out.policy
      out.rules.push(...listing.rules)
      for (const n of listing.next) if (!out.next.includes(n)) out.next.push(n)
    }
    return out
  }
  const odd = [
    '-A KUBE-SERVICES -d 10.96.0.7/32 -p tcp -m comment --comment "ns7/svc-7:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-AAAAAAAAAAAAAAAA',
    '-A KUBE-SERVICES -d 10.96.0.8/32 -p tcp -m comment --comment "ns8/svc-8:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-BBBBBBBBBBBBBBBB',
    '-A KUBE-SERVICES -m comment --comment "x -j KUBE-MARK-MASQ" -j KUBE-SVC-CCCCCCCCCCCCCCCC',
    '-A KUBE-SERVICES -m comment --comment "a -j KUBE-SVC-DDDDDDDDDDDDDDDD" -j KUBE-MARK-MASQ',
    '-A KUBE-SERVICES -j KUBE-SVC-', '-A KUBE-SERVICES -j KUBE-SVC-abc', '-A KUBE-SERVICES -j KUBE-SVC-ABC\r', '-A KUBE-SERVICES --goto KUBE-FW-ZZ',
    '-A KUBE-SERVICES -g KUBE-SEP-Q -j KUBE-SVC-X', '-A KUBE-SERVICES -j  KUBE-XLB-Q9', '-A KUBE-SERVICES -j\tKUBE-EXT-E', '-A KUBE-SERVICES -j KUBE-SVC-X,',
    '-A KUBE-SERVICES -d 10.96.0.7/32 -j KUBE-SVC-EEEEEEEEEEEEEEEE', '-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS', '-A KUBE-SERVICES -j',
    '-P KUBE-SERVICES ACCEPT', '-N KUBE-SERVICES', '# Warning: iptables-legacy tables present', '', 'garbage "', '-A KUBE-SERVICES "',
    '-A KUBE-SERVICES -m comment --comment "a" -g KUBE-MARK-MASQ -j KUBE-SVC-AAAAAAAAAAAAAAAA', '-A KUBE-SERVICES -m comment --comment "ns7/svc-7" -j KUBE-SVC-FFFFFFFFFFFFFFFF',
    '-A KUBE-SERVICES -m comment --comment "x" --jump KUBE-SVC-GG -j KUBE-SVC-HH', 'x\u2028-A KUBE-SERVICES -j KUBE-SVC-II', '-A KUBE-SERVICES -j KUBE-SVC-JJ "',
    '-A KUBE-SERVICES -m comment --comment "b\rc" -j KUBE-SVC-KK', '-A KUBE-SERVICES -m comment --comment "ns7/svc-70 x" -j KUBE-SEP-LL', '-A KUBE-SERVICES -j KUBE-SVC-MM -j',
  ]
  it('keeps and drops what reading each rule alone keeps and drops, on odd rules too', () => {
    let seed = 7
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648
    for (let i = 0; i < 400; i++) {
      const text = Array.from({length: 8}, () => odd[Math.floor(random() * odd.length)]).join('\n') + (random() < 0.5 ? '\n' : '')
      for (const hint of ['10.96.0.7', 'ns7/svc-7', 'KUBE', '"', '', '-A', 'x\n-A']) expect(readChainListing('KUBE-SERVICES', text, hint)).toEqual(oneByOne('KUBE-SERVICES', text, hint))
    }
  })

  it('reads the same listing from the lines pathLines keeps, and keeps every line that is not one of its chain\'s dropped rules', () => {
    let seed = 11
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648
    // another chain's rules, in the dropped rules' form too, and what no listing prints
    const others = [...odd, '-A KUBE-SERVICESX -j KUBE-SVC-AAAAAAAAAAAAAAAA', '-A KUBE-NODEPORTS -j KUBE-SVC-AAAAAAAAAAAAAAAA', 'nodedoc: end of batch', 'Segmentation fault']
    for (let i = 0; i < 400; i++) {
      const lines = Array.from({length: 8}, () => others[Math.floor(random() * others.length)])
      const text = lines.join('\n') + '\n'
      for (const hint of ['10.96.0.7', 'ns7/svc-7', 'KUBE', '"', '', '-A', 'x\n-A']) {
        const kept = pathLines('KUBE-SERVICES', hint)!(text)
        expect(readChainListing('KUBE-SERVICES', kept, hint)).toEqual(readChainListing('KUBE-SERVICES', text, hint))
        const keptLines = kept.split('\n').slice(0, -1)
        for (const line of lines.join('\n').split('\n')) {
          const dropped = line.startsWith('-A KUBE-SERVICES ') && readChainListing('KUBE-SERVICES', line, '').rules.length === 0 && !(hint && line.includes(hint))
          if (!dropped) expect(keptLines, line).toContain(line)
        }
      }
    }
    expect(pathLines('KUBE-SVC-AAAAAAAAAAAAAAAA', 'ns7/svc-7')).toBeUndefined()
    // a name the pattern must take as it is
    const dotted = '-N A.B\n-A A.B -j KUBE-SVC-AAAAAAAAAAAAAAAA\n-A AxB -j KUBE-SVC-AAAAAAAAAAAAAAAA\n'
    expect(pathLines('A.B', 'ns7/svc-7')!(dotted)).toBe('-N A.B\n-A AxB -j KUBE-SVC-AAAAAAAAAAAAAAAA\n')
  })
})
