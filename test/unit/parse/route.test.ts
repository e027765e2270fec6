import {describe, expect, it} from 'vitest'
import {asCidr, longestPrefixMatch, parseIpRouteJson, parseIpRouteText, parseProcNetRoute, singleAddress} from '../../../src/parse/route.js'
import {HAVE_CORPUS, corpusFiles, expectOracleKeys} from '../../helpers/corpus.js'

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
    expectOracleKeys(file.expect!, ['local_ipam_block_blackhole', 'default_gateway', 'pod_ip_to_iface'], ['cni', 'format_note', 'non_pod_bridges'], file.name)
    const routes = parseIpRouteText(file.text)
    expect(routes.find((r) => r.type === 'blackhole')?.destination).toBe(file.expect!.local_ipam_block_blackhole)
    expect(routes.find((r) => r.destination === '0.0.0.0/0')).toMatchObject(file.expect!.default_gateway as object)
    const expected = file.expect!.pod_ip_to_iface as Record<string, string>
    expect(Object.keys(expected).length).toBeGreaterThan(0)
    for (const [ip, iface] of Object.entries(expected)) expect(longestPrefixMatch(routes, ip)?.dev, ip).toBe(iface)
  })
})

describe('/proc/net/route', () => {
  it('reads a reject route (ip route add unreachable ...) as ip -j route names it', () => {
    const text = [
      'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
      'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
      '*\t0000600A\t00000000\t0201\t0\t0\t4242\t0000F0FF\t0\t0\t0',
    ].join('\n')
    expect(parseProcNetRoute(text).map((r) => [r.destination, r.dev, r.via, r.type])).toEqual([
      ['0.0.0.0/0', 'eth0', '192.0.2.1', 'unicast'],
      ['10.96.0.0/12', 'unreachable', null, 'unreachable'],
    ])
    const ip = parseIpRouteJson(JSON.stringify([{type: 'unreachable', dst: '10.96.0.0/12', metric: 4242, flags: []}]))
    expect(ip.map((r) => [r.destination, r.dev, r.type])).toEqual([['10.96.0.0/12', 'unreachable', 'unreachable']])
  })
})

describe('one address and its CIDR', () => {
  it('singleAddress: the address of a /32 or /128, null for a range or a prefix of the other family', () => {
    expect(['10.244.1.7/32', 'fd00::5/128', '10.244.1.0/24', '::/0', '10.0.0.1/128', 'fd00::1/32', '10.0.0.1'].map(singleAddress)).toEqual(['10.244.1.7', 'fd00::5', null, null, null, null, null])
  })
  it('asCidr: a bare address becomes its /32 or /128, a CIDR stays as it is', () => {
    expect(['10.96.0.10', 'fd00::10', '10.96.0.0/12'].map(asCidr)).toEqual(['10.96.0.10/32', 'fd00::10/128', '10.96.0.0/12'])
    for (const cidr of ['10.96.0.10', 'fd00::10'].map(asCidr)) expect(singleAddress(cidr)).toBe(cidr.split('/')[0])
  })
})
