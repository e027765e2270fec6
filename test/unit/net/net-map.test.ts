import {describe, expect, it} from 'vitest'
import type {PodReport} from '../../../src/pods/types.js'
import {cniConfigInUse, containerdCniConfDir, crioCniConfDir, parseCniConfig} from '../../../src/net/cni-config.js'
import type {NetFacts} from '../../../src/net/gather.js'
import {buildNetMap} from '../../../src/net/net-map.js'
import {parseIpLinkJson} from '../../../src/parse/net.js'
import {parseIpRouteJson} from '../../../src/parse/route.js'

function pod(name: string, uid: string, ips: string[], hostVeth: string | null, hostNetwork = false): PodReport {
  return {
    namespace: 'default', name, uid, qosClass: 'BestEffort', runtime: 'containerd', cgroupVersion: 1, cgroupDriver: 'cgroupfs',
    sandbox: {id: null, pid: null, namespaces: {}}, cgroup: null, containers: [], hostNetwork, hostPID: false, hostIPC: false,
    ips, interfaces: [], hostVeth: hostVeth ? {name: hostVeth, ifindex: 0} : null, hostRoute: null, logs: [], findings: [],
  }
}

// `ip -j route show table all` and `ip -j -d link show` as iproute2 6.1 prints them (trimmed to the fields read)
const routes = parseIpRouteJson(JSON.stringify([
  {dst: 'default', gateway: '172.18.0.1', dev: 'eth0', flags: []},
  {dst: '10.244.0.2', dev: 'vethaaaa', scope: 'host', flags: []},
  {dst: '10.244.0.3', dev: 'vethbbbb', scope: 'host', flags: []},
  {dst: '10.244.0.9', dev: 'vethcccc', scope: 'host', flags: []},
  {dst: '10.244.1.0/24', gateway: '172.18.0.3', dev: 'eth0', flags: []},
  {dst: '10.88.0.0/16', dev: 'cni0', protocol: 'kernel', scope: 'link', prefsrc: '10.88.0.1', flags: []},
  {dst: '172.18.0.0/16', dev: 'eth0', protocol: 'kernel', scope: 'link', prefsrc: '172.18.0.2', flags: []},
  {type: 'local', dst: '172.18.0.2', dev: 'eth0', table: 'local', protocol: 'kernel', scope: 'host', prefsrc: '172.18.0.2', flags: []},
]))
const links = parseIpLinkJson(JSON.stringify([
  {ifindex: 1, ifname: 'lo', operstate: 'UNKNOWN'},
  {ifindex: 2, ifname: 'eth0', operstate: 'UP', link_index: 9, link_netnsid: 0, linkinfo: {info_kind: 'veth'}},
  {ifindex: 3, ifname: 'vethaaaa', operstate: 'UP', link_index: 2, link_netnsid: 1, linkinfo: {info_kind: 'veth'}},
  {ifindex: 4, ifname: 'vethbbbb', operstate: 'UP', link_index: 2, link_netnsid: 2, linkinfo: {info_kind: 'veth'}},
  {ifindex: 5, ifname: 'vethcccc', operstate: 'UP', link_index: 2, link_netnsid: 3, linkinfo: {info_kind: 'veth'}},
  {ifindex: 6, ifname: 'cni0', operstate: 'UP', linkinfo: {info_kind: 'bridge'}},
  {ifindex: 7, ifname: 'vethdddd', operstate: 'UP', master: 'cni0', link_index: 2, link_netnsid: 4, linkinfo: {info_kind: 'veth', info_slave_kind: 'bridge'}},
  {ifindex: 8, ifname: 'docker0', operstate: 'DOWN', linkinfo: {info_kind: 'bridge'}},
]))

const facts: NetFacts = {
  routes,
  links,
  nodeAddresses: ['172.18.0.2', '127.0.0.1'],
  netnsNames: [[1, 'cni-1111'], [2, 'cni-2222'], [4, 'cni-4444']],
  cniConfDir: {path: '/etc/cni/net.d', source: 'containerd default'},
  cniConfigs: [parseCniConfig('10-kindnet.conflist', JSON.stringify({cniVersion: '0.3.1', name: 'kindnet', plugins: [{type: 'ptp', ipam: {type: 'host-local', ranges: [[{subnet: '10.244.0.0/24'}]]}}, {type: 'portmap'}]}))],
  pods: [
    pod('by-veth', 'u-a', ['10.244.0.2'], 'vethaaaa'),
    pod('by-route', 'u-b', ['10.244.0.3'], null),
    pod('on-bridge', 'u-d', ['10.88.0.5'], 'vethdddd'),
    pod('lost', 'u-x', ['10.99.0.7'], null),
    pod('misrouted', 'u-m', ['10.244.0.9'], 'vethzzzz'),
    pod('host', 'u-h', ['172.18.0.2'], null, true),
  ],
}
const report = buildNetMap(facts)

describe('buildNetMap', () => {
  it('ties each veth to its pod: by the pod record, else by the /32 route', () => {
    const dev = (name: string) => report.devices.find((d) => d.name === name)!
    expect(dev('vethaaaa')).toEqual({name: 'vethaaaa', ifindex: 3, kind: 'veth', state: 'UP', master: null, peerIfindex: 2, peerNetns: 'cni-1111', pods: [{namespace: 'default', name: 'by-veth', uid: 'u-a', ip: '10.244.0.2'}]})
    expect(dev('vethbbbb').pods).toEqual([{namespace: 'default', name: 'by-route', uid: 'u-b', ip: '10.244.0.3'}])
    expect(dev('vethcccc').peerNetns).toBe('nsid 3')
    expect(report.routes.find((r) => r.destination === '10.244.0.3/32')!.pod).toMatchObject({name: 'by-route', ip: '10.244.0.3'})
  })
  it('lists bridges with their ports and the pods behind them, empty bridges too', () => {
    expect(report.bridges).toEqual([
      {name: 'cni0', state: 'UP', ports: [{name: 'vethdddd', kind: 'veth', peerNetns: 'cni-4444', pods: [{namespace: 'default', name: 'on-bridge', uid: 'u-d', ip: '10.88.0.5'}]}]},
      {name: 'docker0', state: 'DOWN', ports: []},
    ])
  })
  it('finds the default route, leaves the local table out, and reads the CNI config in use', () => {
    expect(report.defaultRoutes.map((r) => [r.via, r.dev])).toEqual([['172.18.0.1', 'eth0']])
    expect(report.routes.some((r) => r.table === 'local')).toBe(false)
    expect(report.cni.inUse).toEqual({file: '10-kindnet.conflist', name: 'kindnet', cniVersion: '0.3.1', plugins: ['ptp', 'portmap'], bridge: null, subnets: ['10.244.0.0/24'], ipamDataDir: null, error: null})
  })
  it('flags pod IPs with no route of their own, and routes to IPs no pod holds', () => {
    expect(report.podIpsWithoutRoute.map((f) => [f.ip, f.pod?.name, f.message])).toEqual([
      ['10.99.0.7', 'lost', 'only the default route matches: packets leave via eth0 (172.18.0.1) instead of reaching the pod'],
      ['10.244.0.9', 'misrouted', "routed to vethcccc, but the pod's host veth is vethzzzz"],
    ])
    // 10.244.0.9 is held by "misrouted": only the ones nobody holds
    expect(report.routesToNoPod).toEqual([])
    const without = buildNetMap({...facts, pods: facts.pods.filter((p) => p.name !== 'misrouted' && p.name !== 'by-route')})
    expect(without.routesToNoPod.map((f) => [f.ip, f.dev, f.message])).toEqual([
      ['10.244.0.3', 'vethbbbb', 'no pod holds 10.244.0.3 (veth peer in netns cni-2222)'],
      ['10.244.0.9', 'vethcccc', 'no pod holds 10.244.0.9 (veth peer in netns nsid 3)'],
    ])
  })
})

describe('CNI config', () => {
  it('finds the runtime\'s conf dir and host-local\'s dataDir', () => {
    expect(containerdCniConfDir('[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dir = "/opt/cni/bin"\n  conf_dir = "/run/k3s/cni/net.d"\n')).toBe('/run/k3s/cni/net.d')
    expect(containerdCniConfDir('version = 2\n')).toBeUndefined()
    expect(crioCniConfDir(['[crio.network]\nnetwork_dir = "/etc/cni/net.d/"\n', '[crio.network]\nnetwork_dir = "/var/run/multus/cni/net.d"\n'])).toBe('/var/run/multus/cni/net.d')
    expect(parseCniConfig('10-x.conflist', JSON.stringify({name: 'x', plugins: [{type: 'bridge', ipam: {type: 'host-local', dataDir: '/run/ipam', ranges: [[{subnet: '10.88.0.0/16'}]]}}]})).ipamDataDir).toBe('/run/ipam')
  })
  it('reads .conf (single plugin) and reports broken files without throwing', () => {
    expect(parseCniConfig('10-bridge.conf', JSON.stringify({cniVersion: '0.4.0', name: 'cbr0', type: 'bridge', bridge: 'cbr0', ipam: {type: 'host-local', subnet: '10.22.0.0/16'}})))
      .toEqual({file: '10-bridge.conf', name: 'cbr0', cniVersion: '0.4.0', plugins: ['bridge'], bridge: 'cbr0', subnets: ['10.22.0.0/16'], ipamDataDir: null, error: null})
    expect(parseCniConfig('00-broken.conflist', '{"name": ').error).toMatch(/^not JSON/)
    expect(parseCniConfig('05-empty.conflist', '{"name": "x", "plugins": []}').error).toBe('no plugin "type"')
  })
  it('reads a field of the wrong JSON type as absent, never throws', () => {
    // shapes a broken or hostile file can hold where an array or object belongs
    const odd = [null, 7, 'x', true, {}, [], [null], [7], [[null]], [['x']], {subnet: 7}]
    for (const value of odd) {
      const shapes = [
        {name: 'n', plugins: value},
        {name: 'n', plugins: [value, {type: 'ptp'}]},
        {name: 'n', plugins: [{type: 'ptp', ipam: value}]},
        {name: 'n', plugins: [{type: 'ptp', ipam: {subnet: value, dataDir: value, ranges: value}}]},
        {name: 'n', plugins: [{type: 'bridge', bridge: value, ipam: {ranges: [value, [value]]}}]},
        {name: value, cniVersion: value, type: value},
      ]
      for (const shape of shapes) for (const file of ['10-x.conflist', '10-x.conf']) {
        const config = parseCniConfig(file, JSON.stringify(shape))
        expect(config.subnets.every((s) => typeof s === 'string')).toBe(true)
        expect([config.name, config.cniVersion, config.bridge, config.ipamDataDir].every((v) => v === null || typeof v === 'string')).toBe(true)
      }
    }
    const mixed = parseCniConfig('10-x.conflist', JSON.stringify({name: 'n', plugins: [7, {type: 'bridge', bridge: 9, ipam: {ranges: ['x', [null, {subnet: '10.1.0.0/16'}], [{subnet: 3}]]}}]}))
    expect(mixed).toMatchObject({plugins: ['bridge'], bridge: 'cni0', subnets: ['10.1.0.0/16'], error: null})
    expect(parseCniConfig('10-x.conflist', '[1, 2]').error).toBe('not a JSON object')
  })
  it('uses the first valid file by name, as libcni does', () => {
    const configs = [
      parseCniConfig('20-b.conflist', '{"name":"b","plugins":[{"type":"bridge"}]}'),
      parseCniConfig('00-broken.conf', '{'),
      parseCniConfig('10-a.conf', '{"name":"a","type":"ptp"}'),
    ]
    expect(cniConfigInUse(configs)?.file).toBe('10-a.conf')
    expect(cniConfigInUse([configs[1]])).toBeNull()
  })
})
