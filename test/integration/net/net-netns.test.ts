// nodedoc net inside network namespaces the test makes: one plays the node, others the pods.
// Nothing touches the machine's own links or routes; no traffic leaves these namespaces.
import {execFileSync, spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parse as parseYaml} from 'yaml'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
const corpus = resolve(repo, '..', 'shared/corpus/routes')
const cli = join(repo, 'bin/run.js')
const s = Math.random().toString(36).slice(2, 7)
const ns = {node: `ndnode-${s}`, a: `ndpa-${s}`, b: `ndpb-${s}`, c: `ndpc-${s}`, gw: `ndgw-${s}`, cal: `ndcal-${s}`, calgw: `ndcgw-${s}`, calpod: `ndcp-${s}`}
const made: string[] = []

function ip(...args: string[]): void {
  execFileSync('ip', args, {stdio: ['ignore', 'ignore', 'pipe']})
}
function netns(name: string): void {
  ip('netns', 'add', name)
  made.push(name)
}
function nodedocIn(netnsName: string, root: string) {
  const r = spawnSync('ip', ['netns', 'exec', netnsName, 'node', cli, 'net', '-o', 'json', '--host-root', root], {encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}})
  expect(r.status, r.stderr).toBe(0)
  return JSON.parse(r.stdout)
}

let root: string
afterAll(() => {
  for (const name of made.reverse()) spawnSync('ip', ['netns', 'del', name])
  if (root) rmSync(root, {recursive: true, force: true})
})

describe('nodedoc net in a made-up node', () => {
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'nodedoc-net-'))
    mkdirSync(join(root, 'etc/cni/net.d'), {recursive: true})
    writeFileSync(join(root, 'etc/cni/net.d/10-kindnet.conflist'), JSON.stringify({cniVersion: '0.3.1', name: 'kindnet', plugins: [{type: 'ptp', ipam: {type: 'host-local', ranges: [[{subnet: '10.251.0.0/24'}]]}}, {type: 'portmap'}]}))
    writeFileSync(join(root, 'etc/cni/net.d/99-loopback.conf'), '{"cniVersion": "0.3.1", "name": "lo", "type": "loopback"}')
    writeFileSync(join(root, 'etc/cni/net.d/00-broken.conf'), '{"name": ')
    for (const name of [ns.node, ns.a, ns.b, ns.c, ns.gw]) netns(name)
    // uplink with the default route, peer in a "gateway" namespace
    ip('-n', ns.node, 'link', 'add', 'nduplink', 'type', 'veth', 'peer', 'name', 'up0', 'netns', ns.gw)
    ip('-n', ns.node, 'addr', 'add', '192.0.2.2/24', 'dev', 'nduplink')
    ip('-n', ns.node, 'link', 'set', 'nduplink', 'up')
    ip('-n', ns.node, 'route', 'add', 'default', 'via', '192.0.2.1', 'dev', 'nduplink', 'onlink')
    // kindnet/ptp style: one veth per pod, a /32 "scope host" route to each pod IP
    for (const [pod, veth, addr] of [[ns.a, 'ndveth-a', '10.251.0.2'], [ns.c, 'ndveth-c', '10.251.0.3']]) {
      ip('-n', ns.node, 'link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', pod)
      ip('-n', ns.node, 'link', 'set', veth, 'up')
      ip('-n', pod, 'addr', 'add', `${addr}/24`, 'dev', 'eth0')
      ip('-n', pod, 'link', 'set', 'eth0', 'up')
      ip('-n', ns.node, 'route', 'add', addr, 'dev', veth, 'scope', 'host')
    }
    // bridge style: the pod's veth is a port of the bridge, the subnet route points at the bridge
    ip('-n', ns.node, 'link', 'add', 'ndbr0', 'type', 'bridge')
    ip('-n', ns.node, 'addr', 'add', '10.252.0.1/24', 'dev', 'ndbr0')
    ip('-n', ns.node, 'link', 'set', 'ndbr0', 'up')
    ip('-n', ns.node, 'link', 'add', 'ndveth-b', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.b)
    ip('-n', ns.node, 'link', 'set', 'ndveth-b', 'master', 'ndbr0')
    ip('-n', ns.node, 'link', 'set', 'ndveth-b', 'up')
    ip('-n', ns.b, 'addr', 'add', '10.252.0.5/24', 'dev', 'eth0')
    ip('-n', ns.b, 'link', 'set', 'eth0', 'up')
    ip('-n', ns.node, 'link', 'add', 'ndbr-empty', 'type', 'bridge')
  })

  it('shows routes with their device and the peer netns, bridges with ports, the default route, the CNI config', () => {
    const report = nodedocIn(ns.node, root)
    expect(report.defaultRoutes.map((r: {via: string; dev: string}) => [r.via, r.dev])).toEqual([['192.0.2.1', 'nduplink']])
    const route = (dst: string) => report.routes.find((r: {destination: string}) => r.destination === dst)
    expect(route('10.251.0.2/32')).toMatchObject({dev: 'ndveth-a', scope: 'host', devKind: 'veth', via: null, table: 'main'})
    expect(route('10.252.0.0/24')).toMatchObject({dev: 'ndbr0', devKind: 'bridge', scope: 'link', protocol: 'kernel'})
    const dev = (name: string) => report.devices.find((d: {name: string}) => d.name === name)
    expect(dev('ndveth-a')).toMatchObject({kind: 'veth', peerNetns: ns.a, master: null})
    expect(dev('ndveth-c')).toMatchObject({kind: 'veth', peerNetns: ns.c})
    expect(report.bridges).toEqual([
      {name: 'ndbr0', state: expect.any(String), ports: [{name: 'ndveth-b', kind: 'veth', peerNetns: ns.b, pods: []}]},
      {name: 'ndbr-empty', state: 'DOWN', ports: []},
    ])
    expect(report.cni.inUse).toMatchObject({file: '10-kindnet.conflist', name: 'kindnet', plugins: ['ptp', 'portmap'], subnets: ['10.251.0.0/24']})
    expect(report.cni.files.find((f: {file: string}) => f.file === '00-broken.conf').error).toMatch(/^not JSON/)
    // no kubelet pods in these namespaces: both /32 routes lead to IPs no pod holds
    expect(report.routesToNoPod).toEqual([
      {ip: '10.251.0.2', pod: null, dev: 'ndveth-a', message: `no pod holds 10.251.0.2 (veth peer in netns ${ns.a})`},
      {ip: '10.251.0.3', pod: null, dev: 'ndveth-c', message: `no pod holds 10.251.0.3 (veth peer in netns ${ns.c})`},
    ])
  })

  it('without iproute2 the links and bridges come from /sys/class/net', () => {
    // a root whose /sys is this netns's sysfs: mounted from inside the netns (sysfs shows the
    // mounter's netns) but in the machine's mount namespace, so that it outlives the mount call.
    // A symlink to /sys would not do: a --host-root never follows a link out of itself.
    const sysRoot = mkdtempSync(join(tmpdir(), 'nodedoc-net-sys-'))
    const sys = join(sysRoot, 'sys')
    mkdirSync(sys)
    let withIp, noIp
    try {
      execFileSync('nsenter', [`--net=/run/netns/${ns.node}`, '--', 'mount', '-t', 'sysfs', 'sysfs', sys])
      withIp = nodedocIn(ns.node, sysRoot)
      // PATH without ip: the same answer about devices, read from sysfs (no peer netns ids there)
      const r = spawnSync('ip', ['netns', 'exec', ns.node, 'env', `PATH=${sysRoot}/no-bin`, process.execPath, cli, 'net', '-o', 'json', '--host-root', sysRoot], {encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}})
      expect(r.status, r.stderr).toBe(0)
      noIp = JSON.parse(r.stdout)
    } finally {
      spawnSync('umount', [sys])
      // never recursive here: if the umount failed, that is the live sysfs
      rmdirSync(sys)
      rmdirSync(sysRoot)
    }
    expect(noIp.devices.length).toBeGreaterThan(3)
    const shape = (report: any) => report.devices.map((d: any) => [d.name, d.kind, d.master]).sort()
    // sysfs cannot tell a veth whose peer has the same ifindex in its own netns (nduplink: 2 and 2)
    // from a plain device, so the fallback may know fewer veths, never different ones
    expect(shape(withIp)).toEqual(expect.arrayContaining(shape(noIp)))
    expect(shape(noIp).map((d: string[]) => d[0])).toEqual(expect.arrayContaining(['ndbr-empty', 'ndbr0', 'ndveth-a', 'ndveth-b', 'ndveth-c']))
    expect(noIp.bridges.map((b: any) => [b.name, b.ports.map((p: any) => p.name)])).toEqual(withIp.bridges.map((b: any) => [b.name, b.ports.map((p: any) => p.name)]))
  })

  it('a route the test deletes is gone from the next answer', () => {
    ip('-n', ns.node, 'route', 'del', '10.251.0.3', 'dev', 'ndveth-c')
    const report = nodedocIn(ns.node, root)
    expect(report.routes.some((r: {destination: string}) => r.destination === '10.251.0.3/32')).toBe(false)
    expect(report.routesToNoPod.map((f: {ip: string}) => f.ip)).toEqual(['10.251.0.2'])
  })

  it('prints a table naming the default route, the CNI config and the findings', () => {
    // -o wide: the default table folds lines at 80 columns
    const r = spawnSync('ip', ['netns', 'exec', ns.node, 'node', cli, 'net', '--host-root', root, '-o', 'wide'], {encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}})
    expect(r.status).toBe(0)
    expect(r.stdout).toContain('Default route: 192.0.2.1 dev nduplink')
    expect(r.stdout).toContain('CNI config:    /etc/cni/net.d/10-kindnet.conflist (network kindnet: ptp -> portmap, subnets 10.251.0.0/24)')
    expect(r.stdout).toMatch(/^ndbr0\s+UP\s+ndveth-b\s+ndpb-/m)
    expect(r.stdout).toContain(`route 10.251.0.2 dev ndveth-a: no pod holds 10.251.0.2 (veth peer in netns ${ns.a})`)
  })
})

describe('nodedoc net on the corpus routes (calico node)', () => {
  const file = join(corpus, 'calicoctl772_calico_node_ip_route.txt')
  it.skipIf(!existsSync(file))('rebuilds the captured table in a netns and finds the oracle\'s pod IPs, gateway and bridges', () => {
    const oracle = parseYaml(readFileSync(file + '.expect.yaml', 'utf8'))
    const lines = readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter(Boolean)
    for (const name of [ns.cal, ns.calgw, ns.calpod]) netns(name)
    // the devices the table names: eth0 (uplink), bridges, and cali* veths with peers in a pod netns
    const devs = new Set(lines.map((l) => /\bdev (\S+)/.exec(l)?.[1]).filter((d): d is string => Boolean(d)))
    let peer = 0
    for (const d of devs) {
      if (d === 'eth0') ip('-n', ns.cal, 'link', 'add', d, 'type', 'veth', 'peer', 'name', 'up0', 'netns', ns.calgw)
      else if (d.startsWith('cali')) ip('-n', ns.cal, 'link', 'add', d, 'type', 'veth', 'peer', 'name', `p${peer++}`, 'netns', ns.calpod)
      else ip('-n', ns.cal, 'link', 'add', d, 'type', 'bridge')
      ip('-n', ns.cal, 'link', 'set', d, 'up')
    }
    // addresses from "src" bring the kernel routes; then every line goes in as written
    for (const line of lines) {
      const src = /\bsrc (\S+)/.exec(line)?.[1]
      const dst = line.split(/\s+/)[0]
      if (src) ip('-n', ns.cal, 'addr', 'add', `${src}/${dst.split('/')[1]}`, 'dev', /\bdev (\S+)/.exec(line)![1])
    }
    for (const line of lines) {
      ip('-n', ns.cal, 'route', 'replace', ...line.split(/\s+/), ...(line.startsWith('default') ? ['onlink'] : []))
    }
    const report = nodedocIn(ns.cal, root ?? mkdtempSync(join(tmpdir(), 'nodedoc-net-')))
    for (const [podIp, iface] of Object.entries(oracle.pod_ip_to_iface as Record<string, string>)) {
      expect(report.routes.find((r: {destination: string}) => r.destination === `${podIp}/32`)).toMatchObject({dev: iface, devKind: 'veth', scope: 'link'})
      expect(report.routesToNoPod).toContainEqual(expect.objectContaining({ip: podIp, dev: iface}))
    }
    expect(report.routesToNoPod).toHaveLength(Object.keys(oracle.pod_ip_to_iface).length)
    expect(report.defaultRoutes.map((r: {via: string; dev: string}) => ({via: r.via, dev: r.dev}))).toEqual([oracle.default_gateway])
    const bridges = report.bridges.map((b: {name: string; ports: unknown[]}) => [b.name, b.ports.length])
    expect(bridges.sort()).toEqual((oracle.non_pod_bridges as string[]).map((b) => [b, 0]).sort())
  })
})
