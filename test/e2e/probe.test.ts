// `svc --probe` and `trace` on the real test node: kube-proxy-shaped rules (iptables through
// the nft backend, iptables-legacy, kube-proxy's nftables mode) in front of real server pods made
// through CRI: three endpoints with different listeners (busybox httpd on 8080, on 8081 serving
// another folder, on 9090), a Service with ClientIP affinity, one with no endpoints, and one whose endpoint never
// answers (for Ctrl-C midway). Probes start in a client pod's network namespace.
//
// The rules never touch the machine's own network namespace: each mode gets a "node" namespace
// of this test's own (rules, forwarding, conntrack), joined to each pod by a veth pair of its own
// (`nd0` in the pod), with the service range routed from the client pod into it and the client's
// address routed back from each server pod. nodedoc runs inside that namespace, as it runs on a
// node; deleting the namespace deletes every rule, chain and veth of the mode. After every test:
// no nodedoc table, no trace rule, no helper process, no journal, no conntrack entry of ours; after
// all of them the machine's own rule sets hold no KUBE- or nodedoc line they did not hold before.
import {randomBytes} from 'node:crypto'
import {mkdtemp, readFile, readdir, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Ajv} from 'ajv'
import {execa} from 'execa'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {splitRuleWords} from '../../src/parse/iptables.js'
import type {ServiceProbeReport} from '../../src/probe/types.js'
import type {TraceReport} from '../../src/probe/trace-types.js'
import type {ServiceTrace} from '../../src/svc/types.js'
import {type ServiceSpec, iptablesRestore, nftablesScript} from '../helpers/kube-proxy-rules.js'
import {REPO} from './node/cli.js'
import type {PodSpec} from './node/kubelet.js'
import {type TestNode, nodeDown, nodeUp} from './node/node.js'

const IS_ROOT = process.getuid?.() === 0
const ajv = new Ajv({allErrors: true})
const schema = async (kind: string) => ajv.compile(JSON.parse(await readFile(join(REPO, 'docs', 'schema', `${kind}.schema.json`), 'utf8')))
const validProbe = await schema('ServiceProbe')
const validTrace = await schema('Trace')
const suffix = randomBytes(3).toString('hex')
const ns = `e2e-${suffix}`
/** a /24 no real cluster uses, different on each run */
const octet = 100 + (randomBytes(1)[0] % 150)
const SERVICE_CIDR = `10.97.${octet}.0/24`
const ip = (last: number) => `10.97.${octet}.${last}`
const POD_CIDR = '10.88.0.0/16'
const PROBES = 150
/** chi-square critical value at significance 0.001, 2 degrees of freedom */
const CHI2_2DF_0_001 = 13.816

const specs: PodSpec[] = [
  {name: 'client', namespace: ns, containers: [{name: 'client', command: ['sleep', '10000']}]},
  {name: 'srv-a', namespace: ns, containers: [{name: 'httpd', command: ['httpd', '-f', '-p', '8080', '-h', '/tmp']}]},
  // not busybox nc: it takes one connection at a time, and with eight probes in flight about a fifth of them timed out at 1 s
  {name: 'srv-b', namespace: ns, containers: [{name: 'httpd', command: ['httpd', '-f', '-p', '8081', '-h', '/']}]},
  {name: 'srv-c', namespace: ns, containers: [{name: 'httpd', command: ['httpd', '-f', '-p', '9090', '-h', '/tmp']}]},
]

let node: TestNode
let clientIp: string
let services: ServiceSpec[]
/** the router side of every veth pair: an address of no network, the pods' next hop */
const ROUTER = '169.254.42.1'
let workDir: string
/** the "node" network namespace of the mode under test */
let nodeNs: string | undefined

async function sh(argv: string[], input?: string): Promise<{stdout: string; stderr: string; exitCode: number}> {
  const r = await execa(argv[0], argv.slice(1), {reject: false, input, stdin: input === undefined ? 'ignore' : undefined, env: {LC_ALL: 'C'}, timeout: 60_000})
  return {stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), exitCode: r.exitCode ?? 1}
}

async function must(argv: string[], input?: string): Promise<string> {
  const r = await sh(argv, input)
  if (r.exitCode !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr.trim()}`)
  return r.stdout
}

async function nftTables(inNode = false): Promise<string[]> {
  return (await must([...(inNode ? ['ip', 'netns', 'exec', nodeNs!] : []), 'nft', 'list', 'tables'])).split('\n').map((l) => l.trim()).filter(Boolean)
}

/** Lines of the machine's own rule sets that name kube-proxy or nodedoc (counters left out). */
async function hostKubeLines(): Promise<string[]> {
  const out: string[] = []
  for (const argv of [['iptables-nft-save'], ['iptables-legacy-save'], ['nft', 'list', 'ruleset']]) {
    for (const line of (await sh(argv)).stdout.split('\n')) if (/KUBE-|kube-proxy|nodedoc/.test(line)) out.push(`${argv[0]}: ${line.replace(/\[\d+:\d+\]/, '').replace(/packets \d+ bytes \d+/, '')}`)
  }
  return out
}

/** A command inside the node namespace of the mode under test. */
const inNode = (argv: string[], input?: string) => must(['ip', 'netns', 'exec', nodeNs!, ...argv], input)

/**
 * The node namespace of one mode: forwarding on, a veth pair into each pod, routes both ways, the
 * never-answering endpoint blackholed (its SYNs vanish: probes take their full timeout). It has
 * no other link: traffic the rules do not DNAT goes nowhere.
 */
async function nodeNamespace(mode: string): Promise<void> {
  nodeNs = `nd-probe-${suffix}-${mode}`
  await must(['ip', 'netns', 'add', nodeNs])
  await inNode(['ip', 'link', 'set', 'lo', 'up'])
  await inNode(['sysctl', '-qw', 'net.ipv4.ip_forward=1'])
  await inNode(['ip', 'route', 'add', 'blackhole', `${ip(250)}/32`])
  // the service range routes somewhere, as a real node's default route does (a veth pair inside the namespace): a packet the rules neither DNAT nor reject is forwarded there and lost, not answered with "no route"
  await inNode(['ip', 'link', 'add', 'svc0', 'type', 'veth', 'peer', 'name', 'svc1'])
  await inNode(['ip', 'link', 'set', 'svc0', 'up'])
  await inNode(['ip', 'link', 'set', 'svc1', 'up'])
  await inNode(['ip', 'route', 'add', SERVICE_CIDR, 'dev', 'svc0'])
  for (const [i, pod] of node.pods.filter((p) => p.namespace === ns && specs.some((s) => s.name === p.name)).entries()) {
    const podNs = pod.netnsPath!.split('/').at(-1)!
    await inNode(['ip', 'link', 'add', `p${i}`, 'type', 'veth', 'peer', 'name', 'nd0', 'netns', podNs])
    await inNode(['ip', 'addr', 'add', `${ROUTER}/32`, 'dev', `p${i}`])
    await inNode(['ip', 'link', 'set', `p${i}`, 'up'])
    await inNode(['ip', 'route', 'add', `${pod.ip}/32`, 'dev', `p${i}`])
    await must(['ip', '-n', podNs, 'link', 'set', 'nd0', 'up'])
    if (pod.name === 'client') await must(['ip', '-n', podNs, 'route', 'add', SERVICE_CIDR, 'via', ROUTER, 'dev', 'nd0', 'onlink', 'src', pod.ip!])
    else await must(['ip', '-n', podNs, 'route', 'add', `${clientIp}/32`, 'via', ROUTER, 'dev', 'nd0', 'onlink'])
  }
}

/** Deleting the namespace deletes its rules, tables, conntrack entries and veth pairs (the pods' nd0 with them). */
async function nodeNamespaceGone(): Promise<void> {
  if (!nodeNs) return
  await sh(['ip', 'netns', 'del', nodeNs])
  nodeNs = undefined
}

/** Processes a probe or a trace starts: the client (node), nft -i, the monitors. */
async function helperProcesses(): Promise<string[]> {
  const out: string[] = []
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')
    const argv = cmdline.split('\0')
    if (argv.some((a) => a.endsWith('probe-client.js') || a === 'probe-client' || a === 'xtables-monitor') || (argv[0].endsWith('nft') && (argv.includes('-i') || argv.includes('monitor')))) out.push(`${pid} ${argv.join(' ')}`)
  }
  return out
}

/** Conntrack entries from the client pod (or the node) to this test's service range, in the node namespace. */
async function ourFlows(): Promise<string[]> {
  if (!nodeNs) return []
  const listed = (await sh(['ip', 'netns', 'exec', nodeNs, 'conntrack', '-L'])).stdout
  return listed.split('\n').filter((l) => l.includes(`dst=10.97.${octet}.`) && l.includes(`src=${clientIp} `))
}

async function leftovers(): Promise<string[]> {
  const left: string[] = []
  for (const t of [...(await nftTables()), ...(nodeNs ? await nftTables(true) : [])]) if (t.includes('nodedoc-')) left.push(t)
  for (const prefix of [[], ...(nodeNs ? [['ip', 'netns', 'exec', nodeNs]] : [])]) {
    for (const save of ['iptables-legacy-save', 'iptables-nft-save']) for (const l of (await sh([...prefix, save])).stdout.split('\n')) if (l.includes('nodedoc trace')) left.push(`${prefix.join(' ')} ${save}: ${l}`)
  }
  left.push(...(await helperProcesses()))
  left.push(...(await readdir('/run/nodedoc/probes').catch(() => [] as string[])).map((f) => `journal ${f}`))
  left.push(...(await ourFlows()))
  return left
}

/** nodedoc as a user runs it on a node: here inside the node namespace of the mode under test. */
async function nodedoc(args: string[]): Promise<{stdout: string; stderr: string; exitCode: number}> {
  const r = await execa('ip', ['netns', 'exec', nodeNs!, process.execPath, join(REPO, 'bin/run.js'), ...args], {reject: false, cwd: REPO, env: {NO_COLOR: '1'}})
  return {stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode ?? 1}
}

async function probe(service: string, count: number, extra: string[] = []): Promise<{report: ServiceTrace & {probe: ServiceProbeReport}; exitCode: number; stderr: string}> {
  const r = await nodedoc(['svc', service, '-n', ns, '--probe', '--from-pod', `${ns}/client`, '--count', String(count), '-o', 'json', ...extra])
  if (!r.stdout.trim()) throw new Error(`svc ${service} --probe: exit ${r.exitCode}: ${r.stderr}`)
  const doc = JSON.parse(r.stdout)
  expect(validProbe(doc), JSON.stringify(validProbe.errors)).toBe(true)
  return {report: {...doc.services[0], probe: doc.probe}, exitCode: r.exitCode, stderr: r.stderr}
}

async function trace(to: string, extra: string[] = []): Promise<{report: TraceReport; exitCode: number; stderr: string}> {
  const r = await nodedoc(['trace', '--from-pod', `${ns}/client`, '--to', to, '-o', 'json', ...extra])
  if (!r.stdout.trim()) throw new Error(`trace ${to}: exit ${r.exitCode}: ${r.stderr}`)
  const doc = JSON.parse(r.stdout)
  expect(validTrace(doc), JSON.stringify(validTrace.errors)).toBe(true)
  return {report: doc, exitCode: r.exitCode, stderr: r.stderr}
}

async function predicted(service: string): Promise<ServiceTrace> {
  const r = await nodedoc(['svc', service, '-n', ns, '-o', 'json'])
  expect(r.exitCode, r.stderr).toBe(0)
  return JSON.parse(r.stdout).services[0]
}

/** Starts nodedoc, waits until its probe client runs, sends SIGINT; returns exit code and stderr. */
async function interruptMidway(args: string[]): Promise<{exitCode: number; stderr: string; sawClient: boolean}> {
  // ip netns exec execs node in its own place: the signal reaches nodedoc itself
  const child = execa('ip', ['netns', 'exec', nodeNs!, process.execPath, join(REPO, 'bin/run.js'), ...args], {reject: false, cwd: REPO, env: {NO_COLOR: '1'}})
  let sawClient = false
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline && child.exitCode === null) {
    if ((await helperProcesses()).some((p) => p.includes('probe-client'))) {
      sawClient = true
      break
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  // midway: the client has been sending for a moment
  await new Promise((r) => setTimeout(r, 1500))
  child.kill('SIGINT')
  const r = await child
  return {exitCode: r.exitCode ?? -1, stderr: String(r.stderr), sawClient}
}

const usable = IS_ROOT && (await sh(['which', 'conntrack', 'xtables-monitor', 'nft', 'iptables-legacy', 'setpriv'])).exitCode === 0
if (!usable) console.warn('probe e2e needs root, conntrack, nft, xtables-monitor, iptables-legacy and setpriv: skipped')

describe.skipIf(!usable)('svc --probe and trace on the test node', () => {
  let hostBefore: string[] = []

  beforeAll(async () => {
    hostBefore = await hostKubeLines()
    workDir = await mkdtemp(join(tmpdir(), 'nodedoc-probe-'))
    node = await nodeUp({apps: ns, system: `${ns}-system`}, specs)
    const podIp = (name: string) => node.pods.find((p) => p.name === name && p.namespace === ns)!.ip!
    clientIp = podIp('client')
    const endpoints = [{ip: podIp('srv-a'), port: 8080}, {ip: podIp('srv-b'), port: 8081}, {ip: podIp('srv-c'), port: 9090}]
    services = [
      {namespace: ns, name: 'web', portName: 'http', protocol: 'tcp', clusterIP: ip(10), port: 80, endpoints},
      {namespace: ns, name: 'sticky', portName: 'http', protocol: 'tcp', clusterIP: ip(11), port: 80, sessionAffinity: 10800, endpoints},
      {namespace: ns, name: 'empty', portName: 'http', protocol: 'tcp', clusterIP: ip(20), port: 80, endpoints: []},
      // an endpoint address the node namespace blackholes: SYNs vanish, so probes take their full timeout
      {namespace: ns, name: 'slow', portName: 'http', protocol: 'tcp', clusterIP: ip(30), port: 80, endpoints: [{ip: ip(250), port: 80}]},
    ]
    // each server answers before the tests start
    for (const e of endpoints) {
      const deadline = Date.now() + 10_000
      // busybox httpd listens on [::] (tcp6)
      while ((await sh(['nsenter', `--net=${node.pods.find((p) => p.ip === e.ip)!.netnsPath}`, 'sh', '-c', `cat /proc/net/tcp /proc/net/tcp6 | grep -qi ":$(printf '%04X' ${e.port}) 0\\+:0000 0A"`])).exitCode !== 0) {
        if (Date.now() > deadline) throw new Error(`no listener on ${e.ip}:${e.port}`)
        await new Promise((r) => setTimeout(r, 100))
      }
    }
  }, 180_000)

  afterEach(async () => {
    expect(await leftovers()).toEqual([])
  })

  afterAll(async () => {
    // what a failed test left of ours (each describe deletes its own node namespace)
    await nodeNamespaceGone()
    if (workDir) await rm(workDir, {recursive: true, force: true})
    node?.cri.close()
    expect(await nodeDown()).toEqual([])
    // the machine's own rule sets: nothing kube-proxy-shaped and no nodedoc table came or went
    expect(await hostKubeLines()).toEqual(hostBefore)
  }, 120_000)

  function checkProbeFit(r: ServiceTrace & {probe: ServiceProbeReport}) {
    const p = r.probe
    const outcomes: Record<string, number> = {}
    for (const a of p.frontends.flatMap((f) => f.attempts)) outcomes[`${a.result} ${a.error ?? ''}`] = (outcomes[`${a.result} ${a.error ?? ''}`] ?? 0) + 1
    expect(p.sent).toBe(PROBES)
    expect(p.answered, JSON.stringify(outcomes)).toBe(PROBES)
    // every flow landed on an endpoint the trace names, none elsewhere
    expect(p.unpredicted).toEqual([])
    const traced = new Set(r.endpoints.map((e) => `${e.ip}:${e.port}`))
    for (const a of p.frontends[0].attempts) expect(traced.has(`${a.endpoint?.ip}:${a.endpoint?.port}`), JSON.stringify(a)).toBe(true)
    expect(p.endpoints.reduce((n, e) => n + e.observed, 0)).toBe(PROBES)
    // the shares fit the traced probabilities: the test's own chi-square, and nodedoc's figure agrees
    let chi2 = 0
    for (const e of p.endpoints) chi2 += (e.observed - PROBES * e.predicted) ** 2 / (PROBES * e.predicted)
    expect(chi2, JSON.stringify(p.endpoints)).toBeLessThan(CHI2_2DF_0_001)
    expect(p.chiSquare).toBeCloseTo(chi2, 3)
    expect(p.pValue).toBeGreaterThan(0.001)
    expect(p.findings).toEqual([])
  }

  describe('iptables, nf_tables backend', () => {
    beforeAll(async () => {
      await nodeNamespace('nft')
      await inNode(['iptables-nft-restore', '--noflush'], iptablesRestore(services, POD_CIDR))
    })
    afterAll(() => nodeNamespaceGone())

    it('probes from the client pod land only on traced endpoints, in the traced shares', async () => {
      const {report, exitCode} = await probe('web', PROBES)
      expect(report.mode).toBe('iptables')
      checkProbeFit(report)
      expect(exitCode).toBe(0)
      expect(report.probe.from).toMatchObject({kind: 'pod', name: 'client', ip: clientIp})
      expect(report.probe.cleanup.join('\n')).toMatch(new RegExp(`${PROBES} conntrack entries`))
    })

    it('session affinity sends every probe to one endpoint', async () => {
      const {report, exitCode} = await probe('sticky', 30)
      expect(report.sessionAffinity).toMatchObject({type: 'ClientIP', timeoutSeconds: 10800})
      expect(report.probe.answered, JSON.stringify(report.probe.frontends[0].attempts.filter((a) => a.result !== 'answered').slice(0, 3))).toBe(30)
      expect(report.probe.endpoints.filter((e) => e.observed > 0)).toHaveLength(1)
      expect(report.probe.affinityHeld).toBe(true)
      expect(exitCode).toBe(0)
    })

    it('the Service with no endpoints is refused, as predicted', async () => {
      const {report, exitCode} = await probe('empty', 5)
      expect(report.probe.predictedVerdict).toMatch(/^REJECT/)
      expect(report.probe).toMatchObject({sent: 5, refused: 5, answered: 0, findings: []})
      expect(exitCode).toBe(0)
    })

    it('trace lists the KUBE- chains svc predicted, in order', async () => {
      const svc = await predicted('web')
      const {report, exitCode, stderr} = await trace(`${ip(10)}:80`)
      expect(report.mode).toBe('iptables-nft')
      expect(report.differences, stderr).toEqual([])
      expect(exitCode).toBe(0)
      const ep = svc.endpoints.find((e) => e.ip === report.observed.dnat?.ip && e.port === report.observed.dnat?.port)!
      expect(ep, JSON.stringify(report.observed)).toBeDefined()
      expect(report.conntrack).toMatchObject({ip: ep.ip, port: ep.port})
      const chains = ['KUBE-SERVICES', svc.chain, ep.chain]
      expect(report.observed.route).toEqual(chains)
      expect(report.predicted.route).toEqual(chains)
      // the hops themselves, in the kernel's order
      const natKube = report.trace.hops.filter((h) => h.table === 'nat' && /^KUBE-(SERVICES|SVC|SEP)/.test(h.chain)).map((h) => h.chain)
      expect(natKube.filter((c, i) => c !== natKube[i - 1])).toEqual(chains)
      expect(report.trace.hops.find((h) => h.chain === ep.chain && h.rule?.includes('DNAT'))?.position).toBe(2)
    })

    it('Ctrl-C midway through a probe removes everything it added', async () => {
      const r = await interruptMidway(['svc', 'slow', '-n', ns, '--probe', '--from-pod', `${ns}/client`, '--count', '200'])
      expect(r.sawClient).toBe(true)
      expect(r.exitCode, r.stderr).toBe(130)
      expect(r.stderr).toMatch(/interrupted/)
    })

    it('Ctrl-C midway through a trace removes its table and monitor', async () => {
      const r = await interruptMidway(['trace', '--from-pod', `${ns}/client`, '--to', `${ip(30)}:80`, '--timeout', '20000'])
      expect(r.sawClient).toBe(true)
      expect(r.exitCode, r.stderr).toBe(130)
    })

    it('a rule changed behind nodedoc\'s back shows as a difference', async () => {
      const saved = join(workDir, 'nft-before.txt')
      await writeFile(saved, await inNode(['iptables-nft-save']))
      const svc = await predicted('web')
      const gone = svc.endpoints[0]
      const jump = (await inNode(['iptables-nft-save', '-t', 'nat'])).split('\n').find((l) => l.startsWith(`-A ${svc.chain} `) && l.endsWith(`-j ${gone.chain}`))!
      await inNode(['iptables-nft', '-w', '-t', 'nat', '-D', ...splitRuleWords(jump.slice(3))])
      await inNode(['iptables-nft', '-w', '-t', 'nat', '-F', gone.chain])
      await inNode(['iptables-nft', '-w', '-t', 'nat', '-X', gone.chain])
      const stale = await trace(`${ip(10)}:80`, ['--iptables-save', saved])
      expect(stale.exitCode).toBe(1)
      expect(stale.report.differences.some((d) => d.includes(`${svc.chain} rule`)), stale.report.differences.join('\n')).toBe(true)
      // predicted from the rules as they are now, the same packet shows no difference
      const fresh = await trace(`${ip(10)}:80`)
      expect(fresh.report.differences).toEqual([])
      expect(fresh.report.observed.route).not.toContain(gone.chain)
    })
  })

  describe('iptables, legacy backend', () => {
    // the kernel logs TRACE lines from a namespace other than the machine's only when asked to
    let logAllBefore: string | undefined
    beforeAll(async () => {
      logAllBefore = (await readFile('/proc/sys/net/netfilter/nf_log_all_netns', 'utf8')).trim()
      await must(['sysctl', '-qw', 'net.netfilter.nf_log_all_netns=1'])
      await nodeNamespace('legacy')
      await inNode(['iptables-legacy-restore', '--noflush'], iptablesRestore(services, POD_CIDR))
    })
    afterAll(async () => {
      await nodeNamespaceGone()
      if (logAllBefore !== undefined) await must(['sysctl', '-qw', `net.netfilter.nf_log_all_netns=${logAllBefore}`])
    })

    it('probes land on traced endpoints in the traced shares', async () => {
      const {report, exitCode} = await probe('web', PROBES)
      checkProbeFit(report)
      expect(exitCode).toBe(0)
    })

    it('trace (raw TRACE, kernel log) lists the KUBE- chains svc predicted, in order', async () => {
      const svc = await predicted('web')
      const {report, exitCode, stderr} = await trace(`${ip(10)}:80`)
      expect(report.mode).toBe('iptables-legacy')
      expect(report.differences, stderr).toEqual([])
      expect(exitCode).toBe(0)
      const ep = svc.endpoints.find((e) => e.ip === report.observed.dnat?.ip)!
      expect(report.observed.route).toEqual(['KUBE-SERVICES', svc.chain, ep.chain])
      expect(report.trace.hops.find((h) => h.table === 'nat' && h.chain === svc.chain && h.verdict === `jump ${ep.chain}`)?.rule).toContain(`-j ${ep.chain}`)
      expect(report.cleanup.join('\n')).toMatch(/iptables-legacy -t raw PREROUTING rule/)
    })

    it('Ctrl-C midway through a trace removes its TRACE rule', async () => {
      const r = await interruptMidway(['trace', '--from-pod', `${ns}/client`, '--to', `${ip(30)}:80`, '--timeout', '20000'])
      expect(r.sawClient).toBe(true)
      expect(r.exitCode, r.stderr).toBe(130)
    })

    it('a rule changed behind nodedoc\'s back shows as a difference', async () => {
      const saved = join(workDir, 'legacy-before.txt')
      await writeFile(saved, await inNode(['iptables-legacy-save']))
      const svc = await predicted('web')
      // the first endpoint: every rule of the service chain then differs from the saved one (rule 1 jumps elsewhere, rule 2 loses its probability)
      const gone = svc.endpoints[0]
      const jump = (await inNode(['iptables-legacy-save', '-t', 'nat'])).split('\n').find((l) => l.startsWith(`-A ${svc.chain} `) && l.endsWith(`-j ${gone.chain}`))!
      await inNode(['iptables-legacy', '-w', '-t', 'nat', '-D', ...splitRuleWords(jump.slice(3))])
      await inNode(['iptables-legacy', '-w', '-t', 'nat', '-F', gone.chain])
      await inNode(['iptables-legacy', '-w', '-t', 'nat', '-X', gone.chain])
      const stale = await trace(`${ip(10)}:80`, ['--iptables-save', saved, '--iptables-backend', 'legacy'])
      expect(stale.exitCode).toBe(1)
      expect(stale.report.differences.length).toBeGreaterThan(0)
    })
  })

  describe('nftables mode', () => {
    beforeAll(async () => {
      await nodeNamespace('nftables')
      await inNode(['nft', '-f', '-'], nftablesScript(services, POD_CIDR, SERVICE_CIDR))
    })
    afterAll(() => nodeNamespaceGone())

    it('probes land on traced endpoints in the traced shares', async () => {
      const {report, exitCode} = await probe('web', PROBES)
      expect(report.mode).toBe('nftables')
      checkProbeFit(report)
      expect(exitCode).toBe(0)
    })

    it('session affinity sends every probe to one endpoint', async () => {
      const {report} = await probe('sticky', 30)
      expect(report.probe.affinityHeld).toBe(true)
    })

    it('the Service with no endpoints is refused', async () => {
      const {report} = await probe('empty', 5)
      expect(report.probe).toMatchObject({refused: 5, answered: 0, findings: []})
    })

    it('trace lists the service and endpoint chains svc predicted, in order', async () => {
      const svc = await predicted('web')
      const {report, exitCode, stderr} = await trace(`${ip(10)}:80`)
      expect(report.mode).toBe('nftables')
      expect(report.differences, stderr).toEqual([])
      expect(exitCode).toBe(0)
      const ep = svc.endpoints.find((e) => e.ip === report.observed.dnat?.ip)!
      expect(report.observed.route).toEqual([svc.chain, ep.chain])
      expect(report.trace.hops.some((h) => h.table === 'kube-proxy' && h.chain === 'services' && h.verdict === `goto ${svc.chain}`)).toBe(true)
    })

    it('Ctrl-C midway through a trace removes its table and monitor', async () => {
      const r = await interruptMidway(['trace', '--from-pod', `${ns}/client`, '--to', `${ip(30)}:80`, '--timeout', '20000'])
      expect(r.sawClient).toBe(true)
      expect(r.exitCode, r.stderr).toBe(130)
    })
  })
})
