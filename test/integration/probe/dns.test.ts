// A real DNS query through kube-proxy-shaped rules: `svc --probe` and `trace` run as a user runs
// them, inside a network namespace the test makes (the "node": rules, routes, conntrack), in
// front of two dnsmasq servers in namespaces of their own. The answer must be a real DNS answer,
// from an endpoint the rules name, and nothing the probe added may stay.
import {existsSync} from 'node:fs'
import {readdir} from 'node:fs/promises'
import {join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {type ResultPromise, execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {iptablesRestore} from '../../helpers/kube-proxy-rules.js'
import {IS_ROOT, Netns, have, netnsName} from '../svc/netns.js'

const ROOT = resolve(fileURLToPath(import.meta.url), '../../../..')
const BUILT = existsSync(join(ROOT, 'dist/commands/trace.js'))
const usable = IS_ROOT && BUILT && (await have('dnsmasq')) && (await have('conntrack')) && (await have('xtables-monitor'))
if (!usable) console.warn('svc --probe DNS test needs root, a build (npm run build), dnsmasq, conntrack and xtables-monitor: skipped')

const NAME = 'kubernetes.default.svc.cluster.local'

describe.skipIf(!usable)('a DNS probe through the rules', () => {
  const tag = Math.random().toString(16).slice(2, 8)
  const spaces: Netns[] = []
  const servers: ResultPromise[] = []
  let node: Netns

  function nodedoc(...args: string[]) {
    return execa('ip', ['netns', 'exec', node.name, process.execPath, join(ROOT, 'bin/run.js'), ...args], {reject: false, env: {NO_COLOR: '1'}, cwd: ROOT})
  }

  beforeAll(async () => {
    node = await Netns.create(netnsName('dns-node', tag))
    spaces.push(node)
    await node.must(['sysctl', '-qw', 'net.ipv4.ip_forward=1'])
    // the service range routes somewhere (a veth pair inside the node), as a real node's default route does
    await node.must(['ip', 'link', 'add', 'svc0', 'type', 'veth', 'peer', 'name', 'svc1'])
    await node.must(['ip', 'link', 'set', 'svc0', 'up'])
    await node.must(['ip', 'link', 'set', 'svc1', 'up'])
    await node.must(['ip', 'route', 'add', '10.96.0.0/16', 'dev', 'svc0'])
    for (const i of [1, 2]) {
      const ep = await Netns.create(netnsName(`dns${i}`, tag))
      spaces.push(ep)
      await node.must(['ip', 'link', 'add', `e${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ep.name])
      await node.must(['ip', 'addr', 'add', `10.254.${i}.1/24`, 'dev', `e${i}`])
      await node.must(['ip', 'link', 'set', `e${i}`, 'up'])
      await ep.must(['ip', 'addr', 'add', `10.254.${i}.2/24`, 'dev', 'eth0'])
      await ep.must(['ip', 'link', 'set', 'eth0', 'up'])
      await ep.must(['ip', 'route', 'add', 'default', 'via', `10.254.${i}.1`])
      const server = execa('ip', ['netns', 'exec', ep.name, 'dnsmasq', '--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--user=root', '--pid-file',
        `--listen-address=10.254.${i}.2`, '--bind-interfaces', `--address=/${NAME}/10.96.0.${i}`, '--log-facility=-', '--log-queries'], {reject: false})
      servers.push(server)
      await new Promise<void>((ready, fail) => {
        const seen = (d: Buffer) => String(d).includes('started') && ready()
        server.stdout!.on('data', seen)
        server.stderr!.on('data', seen)
        setTimeout(() => fail(new Error(`dnsmasq dns${i} did not start`)), 10_000)
      })
    }
    const endpoints = [1, 2].map((i) => ({ip: `10.254.${i}.2`, port: 53}))
    await node.must(['iptables-nft-restore'], iptablesRestore([{namespace: 'demo', name: 'dns', portName: 'dns', protocol: 'udp', clusterIP: '10.96.0.10', port: 53, endpoints}], '10.254.0.0/16'))
  }, 60_000)

  afterAll(async () => {
    for (const s of servers) s.kill('SIGTERM')
    await Promise.allSettled(servers)
    for (const ns of spaces) await ns.delete()
  })

  async function noLeftovers() {
    expect((await node.must(['nft', 'list', 'tables'])).split('\n').filter((l) => l.includes('nodedoc-'))).toEqual([])
    expect((await node.exec(['conntrack', '-L', '-d', '10.96.0.10'])).stdout.trim()).toBe('')
    expect(await readdir('/run/nodedoc/probes').catch(() => [])).toEqual([])
  }

  it('sends real queries and reads real answers, from the endpoints the rules name, in their shares', async () => {
    const r = await nodedoc('svc', 'dns', '-n', 'demo', '--probe', '--count', '40', '-o', 'json')
    expect(r.exitCode, r.stderr).toBe(0)
    const {probe, services} = JSON.parse(r.stdout)
    expect(services[0].protocol).toBe('udp')
    expect(probe).toMatchObject({sent: 40, answered: 40, findings: [], unpredicted: []})
    expect(probe.pValue).toBeGreaterThan(0.001)
    for (const a of probe.frontends[0].attempts) {
      expect(a.dns).toMatchObject({rcode: 'NOERROR', idMatches: true})
      // each dnsmasq answers with its own address: the answer says which endpoint conntrack sent it to
      expect(a.dns.answers).toEqual([{name: NAME, type: 'A', ttl: expect.any(Number), data: `10.96.0.${a.endpoint.ip.split('.')[2]}`}])
      expect(['10.254.1.2', '10.254.2.2']).toContain(a.endpoint.ip)
      expect(a.conntrack.replied).toBe(true)
    }
    expect(probe.endpoints.reduce((n: number, e: {observed: number}) => n + e.observed, 0)).toBe(40)
    await noLeftovers()
  })

  it('traces one query through the nf_tables rules, as predicted', async () => {
    const r = await nodedoc('trace', '--from-node', '--to', '10.96.0.10:53/udp', '-o', 'json')
    expect(r.exitCode, r.stderr).toBe(0)
    const report = JSON.parse(r.stdout)
    expect(report).toMatchObject({apiVersion: 'nodedoc/v1', kind: 'Trace', mode: 'iptables-nft', differences: [], packet: {result: 'answered'}})
    expect(report.observed.route[0]).toBe('KUBE-SERVICES')
    expect(report.observed.route).toHaveLength(3)
    expect(report.predicted.route).toEqual(report.observed.route)
    expect(report.trace.hops[0]).toMatchObject({table: 'nat', chain: 'OUTPUT'})
    await noLeftovers()
  })

  it('refuses an address that is not a Service frontend, sending nothing', async () => {
    const r = await nodedoc('trace', '--to', '10.254.1.2:53/udp')
    expect(r.exitCode).toBe(1)
    expect(r.stderr).toMatch(/not a frontend of any Service/)
    expect((await node.exec(['conntrack', '-L', '-d', '10.254.1.2'])).stdout.trim()).toBe('')
  })
})
