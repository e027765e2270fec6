import {readFileSync} from 'node:fs'
import {execFileSync} from 'node:child_process'
import {describe, expect, it} from 'vitest'
import {parseFibTrieLocal, parseIfInet6, parseIgmpIfindex, parseIpLinkJson, parseNetDev} from '../../../src/parse/net.js'
import {parseIpRouteJson, parseProcNetRoute} from '../../../src/parse/route.js'

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
