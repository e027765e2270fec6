// Real connections through kube-proxy-style rules between namespaces this test makes:
//   client (172.31.0.2) -> "node" (rules, forwarding) -> endpoints ep1..ep3 (10.254.N.2:8080)
// Every connection must land on an endpoint the trace names, the shares must fit the traced
// probabilities (chi-square, fixed significance), and a service the trace says REJECTs is refused.
import {type ResultPromise, execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parseIptablesSave} from '../../../src/parse/iptables.js'
import {traceIptables} from '../../../src/svc/iptables-trace.js'
import type {ServiceTrace} from '../../../src/svc/types.js'
// @ts-expect-error plain JS generator shared with the benchmark
import {kubeProxyRestore} from '../../../bench/svc-gen.mjs'
import {gatherHostRoutes} from '../../../src/pods/routes.js'
import type {PodReport} from '../../../src/pods/types.js'
import {gatherKubeProxyRules} from '../../../src/svc/gather.js'
import {buildSvcReport} from '../../../src/svc/correlate.js'
import {IS_ROOT, Netns, NetnsHost, have, netnsName} from './netns.js'

const CONNECTIONS = 300
/** chi-square critical values at significance 0.001, by degrees of freedom */
const CHI2_CRITICAL_0_001: Record<number, number> = {1: 10.828, 2: 13.816, 3: 16.266}

const SERVER = `
const net = require('node:net')
const server = net.createServer((c) => c.end(process.env.ID))
server.listen(8080, process.env.ADDR, () => console.log('ready'))
`
const CLIENT = `
const net = require('node:net')
const [host, port, n] = process.argv.slice(1)
const counts = {}
const errors = {}
function one() {
  return new Promise((done) => {
    const s = net.connect({host, port: Number(port), timeout: 10000})
    let data = ''
    s.on('data', (d) => (data += d))
    s.on('end', () => { counts[data] = (counts[data] ?? 0) + 1; done() })
    s.on('timeout', () => { errors.ETIMEDOUT = (errors.ETIMEDOUT ?? 0) + 1; s.destroy(); done() })
    s.on('error', (e) => { errors[e.code] = (errors[e.code] ?? 0) + 1; done() })
  })
}
;(async () => { for (let i = 0; i < Number(n); i++) await one(); console.log(JSON.stringify({counts, errors})) })()
`

const usable = IS_ROOT && (await have('iptables-restore')) && (await have('ip'))
if (!usable) console.warn('svc traffic test needs root, ip and iptables-restore: skipped')

describe.skipIf(!usable)('real traffic through traced rules', () => {
  const tag = Math.random().toString(16).slice(2, 8)
  const spaces: Netns[] = []
  const servers: ResultPromise[] = []
  let node: Netns
  let client: Netns
  let services: ServiceTrace[] = []

  beforeAll(async () => {
    node = await Netns.create(netnsName('node', tag))
    spaces.push(node)
    client = await Netns.create(netnsName('client', tag))
    spaces.push(client)
    await node.must(['ip', 'link', 'add', 'n0', 'type', 'veth', 'peer', 'name', 'c0', 'netns', client.name])
    await node.must(['ip', 'addr', 'add', '172.31.0.1/24', 'dev', 'n0'])
    await node.must(['ip', 'link', 'set', 'n0', 'up'])
    await client.must(['ip', 'addr', 'add', '172.31.0.2/24', 'dev', 'c0'])
    await client.must(['ip', 'link', 'set', 'c0', 'up'])
    // only the service range goes to the node: no default route anywhere
    await client.must(['ip', 'route', 'add', '10.96.0.0/16', 'via', '172.31.0.1'])
    await node.must(['sysctl', '-qw', 'net.ipv4.ip_forward=1'])
    // a real node routes service IPs somewhere (its default route); a veth pair inside the netns stands in
    await node.must(['ip', 'link', 'add', 'svc0', 'type', 'veth', 'peer', 'name', 'svc1'])
    await node.must(['ip', 'link', 'set', 'svc0', 'up'])
    await node.must(['ip', 'link', 'set', 'svc1', 'up'])
    await node.must(['ip', 'route', 'add', '10.96.0.0/16', 'dev', 'svc0'])
    for (let i = 1; i <= 3; i++) {
      const ep = await Netns.create(netnsName(`ep${i}`, tag))
      spaces.push(ep)
      await node.must(['ip', 'link', 'add', `e${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ep.name])
      await node.must(['ip', 'addr', 'add', `10.254.${i}.1/24`, 'dev', `e${i}`])
      await node.must(['ip', 'link', 'set', `e${i}`, 'up'])
      await ep.must(['ip', 'addr', 'add', `10.254.${i}.2/24`, 'dev', 'eth0'])
      await ep.must(['ip', 'link', 'set', 'eth0', 'up'])
      await ep.must(['ip', 'route', 'add', '172.31.0.0/24', 'via', `10.254.${i}.1`])
      const server = execa('ip', ['netns', 'exec', ep.name, process.execPath, '-e', SERVER], {env: {ID: `ep${i}`, ADDR: `10.254.${i}.2`}, reject: false})
      servers.push(server)
      await new Promise<void>((ready, fail) => {
        server.stdout!.on('data', (d) => String(d).includes('ready') && ready())
        setTimeout(() => fail(new Error(`server ep${i} did not start`)), 10_000)
      })
    }
    const endpoints = [1, 2, 3].map((i) => ({ip: `10.254.${i}.2`, port: 8080}))
    let rules = kubeProxyRestore([
      {namespace: 'demo', name: 'web', portName: 'http', protocol: 'tcp', clusterIP: '10.96.0.10', port: 80, endpoints},
      {namespace: 'demo', name: 'skewed', portName: 'http', protocol: 'tcp', clusterIP: '10.96.0.11', port: 80, endpoints: endpoints.slice(0, 2)},
      {namespace: 'demo', name: 'empty', portName: 'http', protocol: 'tcp', clusterIP: '10.96.0.20', port: 80, endpoints: []},
    ], {hooks: true, clusterCIDR: '10.254.0.0/16'})
    // an uneven split (20/80) so the trace's probability arithmetic, not just symmetry, is checked
    rules = rules.replace(/(-m comment --comment "demo\/skewed:http -> 10\.254\.1\.2:8080" -m statistic --mode random --probability )0\.5000000000/, '$10.2000000000')
    expect(rules).toContain('--probability 0.2000000000')
    await node.must(['iptables-restore'], rules)
    services = traceIptables(parseIptablesSave(await node.must(['iptables-save']))).services
  }, 120_000)

  afterAll(async () => {
    for (const s of servers) s.kill('SIGTERM')
    await Promise.allSettled(servers)
    for (const ns of spaces) await ns.delete()
  })

  async function connect(ip: string, n: number): Promise<{counts: Record<string, number>; errors: Record<string, number>}> {
    const out = await client.must([process.execPath, '-e', CLIENT, ip, '80', String(n)])
    return JSON.parse(out)
  }

  function checkShares(svc: ServiceTrace, counts: Record<string, number>) {
    const byId = new Map(svc.endpoints.map((e) => [`ep${e.ip.split('.')[2]}`, e]))
    const total = Object.values(counts).reduce((a, b) => a + b, 0)
    expect(total).toBe(CONNECTIONS)
    // (a) every answer came from an endpoint the trace named
    for (const id of Object.keys(counts)) expect(byId.has(id), `${id} is a traced endpoint of ${svc.service}`).toBe(true)
    // (b) observed shares fit the traced probabilities
    let chi2 = 0
    for (const [id, ep] of byId) {
      const expected = CONNECTIONS * ep.probability
      chi2 += ((counts[id] ?? 0) - expected) ** 2 / expected
    }
    const critical = CHI2_CRITICAL_0_001[byId.size - 1]
    expect(chi2, `chi-square ${chi2.toFixed(2)} for ${JSON.stringify(counts)} vs ${svc.endpoints.map((e) => e.probability).join('/')}`).toBeLessThan(critical)
  }

  it('lands every connection on a traced endpoint, in the traced shares (3 endpoints)', async () => {
    const web = services.find((s) => s.service === 'demo/web:http')!
    expect(web.endpoints.map((e) => e.probability.toFixed(4))).toEqual(['0.3333', '0.3333', '0.3333'])
    expect(web.path[0].chain).toBe('PREROUTING')
    const {counts, errors} = await connect('10.96.0.10', CONNECTIONS)
    expect(errors).toEqual({})
    checkShares(web, counts)
  })

  it('follows an uneven split (20/80)', async () => {
    const skewed = services.find((s) => s.service === 'demo/skewed:http')!
    // the kernel keeps the probability as a 32-bit fraction: iptables-save prints 0.20000000019
    expect(skewed.endpoints[0].probability).toBeCloseTo(0.2, 8)
    expect(skewed.endpoints[1].probability).toBeCloseTo(0.8, 8)
    const {counts, errors} = await connect('10.96.0.11', CONNECTIONS)
    expect(errors).toEqual({})
    checkShares(skewed, counts)
  })

  it('follows each endpoint onward: the node\'s real routes, the pod owning the IP, or a stale endpoint', async () => {
    const host = new NetnsHost(node)
    const routes = await gatherHostRoutes(host)
    expect(routes.some((r) => r.destination === '10.254.1.0/24' && r.dev === 'e1')).toBe(true)
    // two pods own endpoints; 10.254.3.2 is routed into the node but no pod claims it
    const pod = (i: number) => ({namespace: 'demo', name: `web-${i}`, uid: `uid-${i}`, ips: [`10.254.${i}.2`], hostVeth: {name: `e${i}`, ifindex: 0}}) as unknown as PodReport
    const report = buildSvcReport(await gatherKubeProxyRules(host), {routes, pods: [pod(1), pod(2)]}, {name: 'web', namespace: 'demo'})
    expect(report.mode).toBe('iptables')
    const eps = Object.fromEntries(report.services[0].endpoints.map((e) => [e.ip, e]))
    expect(eps['10.254.1.2']).toMatchObject({location: 'local', pod: {namespace: 'demo', name: 'web-1', uid: 'uid-1'}, route: {dev: 'e1', via: null}, problems: []})
    expect(eps['10.254.2.2']).toMatchObject({location: 'local', pod: {name: 'web-2'}, route: {dev: 'e2'}})
    expect(eps['10.254.3.2']).toMatchObject({location: 'local', pod: null, route: {dev: 'e3'}})
    expect(eps['10.254.3.2'].problems[0]).toMatch(/no pod here owns it/)
    expect(report.services[0].problems.some((p) => p.includes('10.254.3.2'))).toBe(true)
  })

  it('refuses a service the trace says REJECTs', async () => {
    const empty = services.find((s) => s.service === 'demo/empty:http')!
    expect(empty.endpoints).toEqual([])
    expect(empty.frontends[0].otherwise).toMatchObject({target: 'REJECT', table: 'filter', chain: 'KUBE-SERVICES'})
    const {counts, errors} = await connect('10.96.0.20', 5)
    expect(counts).toEqual({})
    expect(errors).toEqual({ECONNREFUSED: 5})
  })
})
