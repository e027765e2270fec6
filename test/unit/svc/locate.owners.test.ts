// svc locates endpoints against each pod's identity, addresses and veth (gatherPodAddresses),
// not a full inspection of every pod: the same pods in the same order, with the same addresses
// and veths as gatherPods gives them, and so the same svc report, on the bundled snapshot of a
// real node and on a synthetic 110-pod node (bench/gen-node-snapshot.mjs --net: hostNetwork and
// IPv6 pods, a misrouted pod, a stale endpoint), with a pod whose sandbox is not found and one
// that left only its logs.
import {spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {SnapshotHost} from '../../../src/host/snapshot.js'
import {gatherPodAddresses, gatherPods} from '../../../src/pods/pods.js'
import {gatherHostRoutes} from '../../../src/pods/routes.js'
import type {PodReport} from '../../../src/pods/types.js'
import {buildSvcReport} from '../../../src/svc/correlate.js'
import {type KubeProxyRules, gatherNodeNetwork} from '../../../src/svc/gather.js'
// @ts-expect-error plain JS generator shared with the benchmark
import {kubeProxyRestore, nodeOwnerRules} from '../../../bench/svc-gen.mjs'

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
const EXAMPLE = join(REPO, 'examples/containerd-node')

let work: string
let synthetic: string
let syntheticRules: KubeProxyRules

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'nodedoc-owners-'))
  synthetic = join(work, 'snap')
  const gen = spawnSync(process.execPath, [join(REPO, 'bench/gen-node-snapshot.mjs'), synthetic, '110', '400', '--net'], {encoding: 'utf8'})
  if (gen.status !== 0) throw new Error(gen.stderr)
  const fs = (path: string) => join(synthetic, 'fs', path)
  // pod 50's sandbox unrecognised (no runtime config, not named pause): its network is read
  // through the container inspectPod orders first. The generator gives pod i's sandbox PID 101 + 3i.
  const pid = 101 + 3 * 50
  expect(readFileSync(fs(`/proc/${pid}/cmdline`), 'utf8')).toBe('/pause\0')
  writeFileSync(fs(`/proc/${pid}/cmdline`), 'sleep\0infinity\0')
  writeFileSync(fs(`/proc/${pid}/status`), readFileSync(fs(`/proc/${pid}/status`), 'utf8').replace('Name:\tpause', 'Name:\tsleep'))
  const sandboxId = createHash('sha256').update('sandbox50').digest('hex')
  rmSync(fs(`/run/containerd/io.containerd.runtime.v2.task/k8s.io/${sandboxId}/config.json`))
  // a pod that left only its logs: no process, no address
  mkdirSync(fs('/var/log/pods/team-z_gone_0b5c1f1e-0000-4000-8000-000000000001/app'), {recursive: true})
  writeFileSync(fs('/var/log/pods/team-z_gone_0b5c1f1e-0000-4000-8000-000000000001/app/0.log'), '2026-11-26T00:00:00.000000000Z stdout F bye\n')
  const {v4, v6} = nodeOwnerRules() as {v4: string; v6: string}
  syntheticRules = {iptables: {backend: 'file', reason: 'rules.txt', ipv4: v4, ipv6: v6}, nft: null, ipvs: null, problems: []}
})

afterAll(() => {
  if (work) rmSync(work, {recursive: true, force: true})
})

const pick = (p: PodReport) => ({namespace: p.namespace, name: p.name, uid: p.uid, ips: p.ips, hostVeth: p.hostVeth})

// the test node's pods are 10.88.0.2-5 (core-k8s-hostnet on the node's network); it ran no kube-proxy
const ep = (ip: string) => ({ip, port: 8080})
const exampleRules: KubeProxyRules = {
  iptables: {backend: 'file', reason: 'rules.txt', ipv6: '', ipv4: kubeProxyRestore([
    {namespace: 'team-a', name: 'web', portName: 'http', protocol: 'tcp', clusterIP: '10.96.0.10', port: 80, endpoints: ['10.88.0.2', '10.88.0.3', '10.88.0.4', '10.88.0.5'].map(ep)},
    {namespace: 'default', name: 'mixed', portName: 'http', protocol: 'tcp', clusterIP: '10.96.0.11', port: 80, endpoints: ['10.88.0.99', '10.88.0.1', '192.168.7.7'].map(ep)},
  ], {hooks: true, clusterCIDR: '10.88.0.0/16'})},
  nft: null, ipvs: null, problems: [],
}

describe.each([
  ['the bundled snapshot of the test node', () => EXAMPLE, exampleRules, 'core-k8s-hostnet'],
  ['a synthetic 110-pod node', () => synthetic, undefined, 'app-9'],
])('svc on %s: pods read for their addresses alone', (_, path, givenRules, hostNetworkPod) => {
  it('gives each pod the identity, addresses and veth gatherPods gives, in its order', async () => {
    const full = await gatherPods(await SnapshotHost.open(path()))
    const light = await gatherPodAddresses(await SnapshotHost.open(path()))
    expect(light).toEqual(full.map(pick))
    expect(full.find((p) => p.name === hostNetworkPod)?.hostNetwork).toBe(true)
    expect(full.filter((p) => p.hostVeth).length).toBeGreaterThan(3)
  })

  it('gives the same svc report, every service and one by one', async () => {
    const rules = givenRules ?? syntheticRules
    const before = await SnapshotHost.open(path())
    const net = {routes: await gatherHostRoutes(before), pods: await gatherPods(before)}
    for (const query of [{}, {name: 'web', namespace: 'team-a'}, {name: 'mixed'}, {name: 'empty'}]) {
      const after = buildSvcReport(rules, await gatherNodeNetwork(await SnapshotHost.open(path())), query)
      expect(JSON.stringify(after)).toBe(JSON.stringify(buildSvcReport(rules, net, query)))
    }
  })
})

describe('the synthetic node covers what locating an endpoint tells apart', () => {
  it('a pod whose sandbox is not found, one that left only logs', async () => {
    const pods = await gatherPodAddresses(await SnapshotHost.open(synthetic))
    expect(pods.filter((p) => p.name === 'app-50' || p.name === 'gone')).toEqual([
      {namespace: 'team-a', name: 'app-50', uid: expect.any(String), ips: ['10.244.0.52', 'fd00:10:244::34'], hostVeth: {name: expect.stringMatching(/^veth/), ifindex: 60}},
      {namespace: 'team-z', name: 'gone', uid: '0b5c1f1e-0000-4000-8000-000000000001', ips: [], hostVeth: null},
    ])
  })

  it('pods owning IPv4 and IPv6 endpoints, a misrouted pod, the node itself, a stale endpoint, remote ones', async () => {
    const report = buildSvcReport(syntheticRules, await gatherNodeNetwork(await SnapshotHost.open(synthetic)))
    const where = Object.fromEntries(report.services.flatMap((s) => s.endpoints).map((e) => [e.ip, [e.location, e.pod?.name ?? null, e.problems.join('; ')]]))
    expect(where).toMatchObject({
      '10.244.0.2': ['local', 'core-k8s', ''],
      'fd00:10:244::2': ['local', 'core-k8s', ''],
      '10.244.0.5': ['local', 'app-3', expect.stringMatching(/^route to 10\.244\.0\.5 uses veth\w+, but the pod's veth is veth\w+$/)],
      '10.0.2.15': ['local', null, ''],
      'fd00::15': ['local', null, ''],
      '10.244.1.200': ['local', null, expect.stringContaining('no pod here owns it: stale endpoint?')],
      '10.245.0.5': ['remote', null, ''],
      '2001:db8::5': ['remote', null, ''],
    })
  })
})
