import {readFileSync} from 'node:fs'
import {execFileSync} from 'node:child_process'
import {describe, expect, it} from 'vitest'
import {parseFibTrieLocal, parseIfInet6, parseIgmpIfindex, parseIpLinkJson, parseNetDev} from '../../../src/parse/net.js'
import {longestPrefixMatch, parseIpRouteJson, parseIpRouteText, parseProcNetRoute} from '../../../src/parse/route.js'
import {HAVE_CORPUS, corpusFiles} from '../../helpers/corpus.js'

// real text from this machine's own network namespace, checked against iproute2's view of it
const ipJson = (args: string[]) => JSON.parse(execFileSync('ip', ['-j', ...args], {encoding: 'utf8'}))

describe('/proc/net files of this machine', () => {
  it('fib_trie local addresses are the addresses ip shows', () => {
    const fromIp = ipJson(['-4', 'addr']).flatMap((l: {addr_info: Array<{local: string}>}) => l.addr_info.map((a) => a.local))
    expect(parseFibTrieLocal(readFileSync('/proc/self/net/fib_trie', 'utf8')).sort()).toEqual([...new Set(fromIp)].sort())
  })
  it('net/dev names every link', () => {
    const fromIp = ipJson(['link']).map((l: {ifname: string}) => l.ifname)
    expect(parseNetDev(readFileSync('/proc/self/net/dev', 'utf8')).sort()).toEqual(fromIp.sort())
  })
  it('if_inet6 and igmp give ifindexes that match ip link', () => {
    const index = new Map<string, number>(ipJson(['link']).map((l: {ifname: string; ifindex: number}) => [l.ifname, l.ifindex]))
    for (const a of parseIfInet6(readFileSync('/proc/self/net/if_inet6', 'utf8'))) expect(a.ifindex).toBe(index.get(a.device))
    for (const [name, i] of parseIgmpIfindex(readFileSync('/proc/self/net/igmp', 'utf8'))) expect(i).toBe(index.get(name))
  })
  it('if_inet6 addresses are written as ip writes them', () => {
    const fromIp = ipJson(['-6', 'addr']).flatMap((l: {addr_info: Array<{local: string}>}) => l.addr_info.map((a) => a.local))
    expect(parseIfInet6(readFileSync('/proc/self/net/if_inet6', 'utf8')).map((a) => a.address).sort()).toEqual(fromIp.sort())
  })
  it('/proc/net/route and ip -j route agree on the main table', () => {
    const proc = parseProcNetRoute(readFileSync('/proc/self/net/route', 'utf8'))
    const ip = parseIpRouteJson(execFileSync('ip', ['-j', '-4', 'route', 'show', 'table', 'main'], {encoding: 'utf8'}))
    expect(proc.map((r) => `${r.destination} ${r.dev} ${r.via}`).sort()).toEqual(ip.map((r) => `${r.destination} ${r.dev} ${r.via}`).sort())
  })
  it('ip -j -d link', () => {
    const links = parseIpLinkJson(execFileSync('ip', ['-j', '-d', 'link', 'show'], {encoding: 'utf8'}))
    expect(links.find((l) => l.name === 'lo')).toMatchObject({ifindex: 1, iflink: null})
  })
})

describe('longest prefix match', () => {
  const routes = parseIpRouteJson(
    JSON.stringify([
      {dst: 'default', gateway: '192.0.2.1', dev: 'eth0'},
      {dst: '10.244.0.0/16', gateway: '192.0.2.9', dev: 'eth0'},
      {dst: '10.244.1.0/24', dev: 'cni0', scope: 'link'},
      {dst: '10.244.1.7', dev: 'veth1', scope: 'host'},
      {type: 'local', dst: '10.244.1.1', dev: 'cni0', table: 'local'},
    ]),
  )
  it.each([
    ['10.244.1.7', 'veth1'],
    ['10.244.1.8', 'cni0'],
    ['10.244.2.8', 'eth0'],
    ['8.8.8.8', 'eth0'],
  ])('%s goes to %s', (ip, dev) => expect(longestPrefixMatch(routes, ip)?.dev).toBe(dev))
  it('a blackhole route from ip -j has no dev and still catches its block', () => {
    const withHole = parseIpRouteJson(JSON.stringify([{type: 'blackhole', dst: '192.168.0.0/26', protocol: 'bird', flags: []}, {dst: '192.168.0.12', dev: 'cali1', scope: 'link', flags: []}]))
    expect(longestPrefixMatch(withHole, '192.168.0.13')).toMatchObject({type: 'blackhole', dev: 'blackhole'})
    expect(longestPrefixMatch(withHole, '192.168.0.12')?.dev).toBe('cali1')
  })
  it('the local table does not answer for the main table', () => expect(longestPrefixMatch(routes, '10.244.1.1')?.dev).toBe('cni0'))
})

describe.skipIf(!HAVE_CORPUS)('corpus routes (calico node `ip route`)', () => {
  it('each pod IP routes to its cali interface', () => {
    const [file] = corpusFiles('routes')
    const routes = parseIpRouteText(file.text)
    expect(routes.find((r) => r.type === 'blackhole')?.destination).toBe(file.expect!.local_ipam_block_blackhole)
    expect(routes.find((r) => r.destination === '0.0.0.0/0')).toMatchObject(file.expect!.default_gateway as object)
    const expected = file.expect!.pod_ip_to_iface as Record<string, string>
    expect(Object.keys(expected).length).toBeGreaterThan(0)
    for (const [ip, iface] of Object.entries(expected)) expect(longestPrefixMatch(routes, ip)?.dev, ip).toBe(iface)
  })
})
