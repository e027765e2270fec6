// `why dns` against a real DNS service: dnsmasq pods made through CRI on the test node, kube-dns
// rules written as kube-proxy writes them (iptables mode, then nftables mode), a client pod whose
// real lookups prove each verdict. Every link is broken for real, one at a time: the lookup must
// fail, `why` must name that link first, and the lookup must work again once it is restored.
import {randomBytes} from 'node:crypto'
import {appendFileSync} from 'node:fs'
import {copyFile, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {WhyReport} from '../../src/why/types.js'
import {nodedoc} from './node/cli.js'
import {restartContainer} from './node/kubelet.js'
import {type TestNode, nodeDown, nodeUp} from './node/node.js'
import {saveState} from './node/state.js'
import {
  CLUSTER_DNS, addGuards, assertNoKubeProxy, cleanup, clearServiceConntrack, clientPodSpec, conntrackLeft, dnsPodSpec, dnsmasqImage,
  kubeProxyNft, lookup, must, removeIptablesRules, resolved, run, svcChain, unhookServices, writeIptablesRules,
} from './why/dns-node.js'

const suffix = randomBytes(3).toString('hex')
const apps = `why-${suffix}`
const system = `why-${suffix}-system`
const specs = [clientPodSpec(apps), dnsPodSpec('dns-a', system), dnsPodSpec('dns-b', system)]
let node: TestNode
let scratch: string

const pod = (name: string) => node.pods.find((p) => p.name === name)!
const spec = (name: string) => specs.find((s) => s.name === name)!
const ip = (name: string) => pod(name).ip!

/** The host PID of a pod's newest container; throws unless it runs (a 0 would signal our own process group). */
async function mainPid(name: string): Promise<number> {
  const c = pod(name).containers.at(-1)!
  const status = await node.cri.containerStatus(c.id!, true)
  const pid = Number(JSON.parse(status.info.info ?? '{}').pid)
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`${name}: container ${c.name} has no running process (pid ${pid})`)
  return pid
}

function progress(line: string): void {
  if (process.env.NODEDOC_WHY_PROGRESS) appendFileSync(process.env.NODEDOC_WHY_PROGRESS, `${new Date().toISOString()} ${line}\n`)
}

async function why(args: string[]): Promise<{report: WhyReport; exitCode: number; stderr: string}> {
  progress(`why ${args.join(' ')}`)
  const r = await nodedoc(['why', ...args, '-o', 'json'])
  progress(`  -> exit ${r.exitCode} ${r.stdout.length} bytes ${r.stderr.slice(0, 300)}`)
  expect([0, 1], r.stderr).toContain(r.exitCode)
  return {report: JSON.parse(r.stdout) as WhyReport, exitCode: r.exitCode, stderr: r.stderr}
}

const whyDns = () => why(['dns', 'client', '-n', apps])

async function until(what: string, ok: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

async function dnsAnswers(name: string): Promise<boolean> {
  const pid = await mainPid(name).catch(() => 0)
  if (!pid) return false
  // dnsmasq binds port 53 in the pod's netns once it is ready
  const udp = await readFile(`/proc/${pid}/net/udp`, 'utf8').catch(() => '')
  return / [0-9A-F]{8}:0035 /.test(udp)
}

async function killDns(name: string): Promise<void> {
  const pid = await mainPid(name)
  progress(`kill ${name} ${pid}`)
  process.kill(pid, 'SIGKILL')
  await until(`${name} to exit`, async () => (await node.cri.containerStatus(pod(name).containers.at(-1)!.id!)).status?.state === 'CONTAINER_EXITED')
}

async function restartDns(name: string): Promise<void> {
  await restartContainer(node.cri, spec(name), pod(name), 'dnsmasq', () => saveState(node.state))
  await until(`${name} to answer`, () => dnsAnswers(name))
}

/** The healthy chain: a real lookup resolves, and `why` says every link holds. */
async function expectHealthy(mode: 'iptables' | 'nftables'): Promise<void> {
  await until('a lookup to resolve', async () => resolved(await lookup(await mainPid('client'))))
  const {report, exitCode} = await whyDns()
  expect(report.links.filter((l) => l.status === 'BROKEN'), JSON.stringify(report.links, null, 1)).toEqual([])
  expect(report.verdict.link).toBeNull()
  expect(exitCode).toBe(0)
  expect(report.links.find((l) => l.name === 'nameserver Service')?.detail).toContain(`(${mode})`)
}

/** A break: the lookup fails for real, and `why` names `link` first (exit 1). */
async function expectBroken(link: string, reason: RegExp, sport = 0): Promise<WhyReport> {
  progress(`expect ${link} broken`)
  const failed = await lookup(await mainPid('client'), sport)
  expect(resolved(failed), JSON.stringify(failed)).toBe(false)
  const {report, exitCode} = await whyDns()
  expect(report.verdict.link, JSON.stringify(report, null, 1)).toBe(link)
  expect(report.verdict.reason).toMatch(reason)
  expect(report.verdict.fix).toBeTruthy()
  expect(exitCode).toBe(1)
  return report
}

beforeAll(async () => {
  await assertNoKubeProxy()
  node = await nodeUp({apps, system}, specs, [dnsmasqImage])
  scratch = await mkdtemp(join(tmpdir(), 'nodedoc-why-'))
  await addGuards()
  await until('dns-a to answer', () => dnsAnswers('dns-a'))
  await until('dns-b to answer', () => dnsAnswers('dns-b'))
  await writeIptablesRules(system, [ip('dns-a')])
}, 180_000)

afterAll(async () => {
  const ips = node ? node.pods.map((p) => p.ip).filter((a): a is string => !!a) : []
  await cleanup(ips)
  if (scratch) await rm(scratch, {recursive: true, force: true})
  node?.cri.close()
  expect(await nodeDown()).toEqual([])
  expect(await conntrackLeft([...ips, CLUSTER_DNS])).toEqual([])
  expect((await run(['iptables', '-t', 'nat', '-S', 'KUBE-SERVICES'])).exitCode).not.toBe(0)
  expect((await run(['nft', 'list', 'table', 'ip', 'kube-proxy'])).exitCode).not.toBe(0)
  expect((await run(['ip', 'route', 'show', 'metric', '4242'])).stdout.trim()).toBe('')
  expect((await run(['pgrep', '-f', 'dnsmasq -k --user=root'])).stdout.trim()).toBe('')
}, 180_000)

describe.sequential('why dns, iptables mode', () => {
  it('holds on a healthy node, where a real lookup resolves', async () => {
    await expectHealthy('iptables')
    if (process.env.NODEDOC_WHY_KEEP) expect((await nodedoc(['snapshot', '-o', join(process.env.NODEDOC_WHY_KEEP, 'why-dns-healthy.tar.gz')])).exitCode).toBe(0)
    const {report} = await whyDns()
    const endpoints = report.links.find((l) => l.name === 'endpoints')!
    expect(endpoints.evidence).toEqual([expect.stringMatching(new RegExp(`^${ip('dns-a').replace(/\./g, '\\.')}:53 100% of new connections \\(KUBE-SEP-`))])
    const resolv = report.links.find((l) => l.name === 'resolv.conf')!
    expect(resolv.evidence[0]).toMatch(/bind mount of \/var\/lib\/containerd\/io\.containerd\.grpc\.v1\.cri\/sandboxes\/[0-9a-f]{64}\/resolv\.conf$/)
  })

  it('names the endpoints link when the endpoint chain is removed', async () => {
    const svc = svcChain(system, 'dns', 'udp')
    const rules = (await must(['iptables', '-t', 'nat', '-S', svc])).split('\n').filter((l) => l.startsWith('-A '))
    const at = rules.findIndex((l) => / -j KUBE-SEP-/.test(l))
    const sep = / -j (KUBE-SEP-\S+)/.exec(rules[at])![1]
    await must(['iptables', '-t', 'nat', '-D', svc, String(at + 1)])
    await must(['iptables', '-t', 'nat', '-F', sep])
    await must(['iptables', '-t', 'nat', '-X', sep])
    try {
      await expectBroken('endpoints', /has no endpoints/)
    } finally {
      await writeIptablesRules(system, [ip('dns-a')])
      await clearServiceConntrack()
    }
    await expectHealthy('iptables')
  })

  it('names the endpoint pod when the DNS pod is killed (process gone, route stays), and a snapshot says the same', async () => {
    await killDns('dns-a')
    try {
      const live = await expectBroken('endpoint pod', /none of its containers runs/)
      const snapshot = join(scratch, 'broken.tar.gz')
      const taken = await nodedoc(['snapshot', '-o', snapshot])
      expect(taken.exitCode, taken.stderr).toBe(0)
      // NODEDOC_WHY_KEEP=DIR keeps the snapshot (README's broken-node run is read from one)
      if (process.env.NODEDOC_WHY_KEEP) await copyFile(snapshot, join(process.env.NODEDOC_WHY_KEEP, 'why-dns-broken.tar.gz'))
      const replay = await why(['dns', 'client', '-n', apps, '--from', snapshot])
      expect(replay.report.verdict).toEqual(live.verdict)
      expect(replay.report.links.map((l) => [l.name, l.status])).toEqual(live.links.map((l) => [l.name, l.status]))
      expect(replay.exitCode).toBe(1)
    } finally {
      await restartDns('dns-a')
    }
    await expectHealthy('iptables')
  })

  it('names the endpoint route when the route to the pod is removed', async () => {
    await must(['ip', 'route', 'del', '10.88.0.0/16', 'dev', 'cni0'])
    try {
      await expectBroken('endpoint route', /routed to unreachable/)
    } finally {
      await must(['ip', 'route', 'add', '10.88.0.0/16', 'dev', 'cni0', 'proto', 'kernel', 'scope', 'link', 'src', '10.88.0.1'])
    }
    await clearServiceConntrack()
    await expectHealthy('iptables')
  })

  it('names ip_forward when forwarding is off', async () => {
    await writeFile('/proc/sys/net/ipv4/ip_forward', '0')
    try {
      await expectBroken('ip_forward', /ip_forward = 0/)
    } finally {
      await writeFile('/proc/sys/net/ipv4/ip_forward', '1')
    }
    await expectHealthy('iptables')
  })

  it('names the nameserver when resolv.conf names an address that is no Service', async () => {
    const c = (await nodedoc(['pod', 'client', '-n', apps, '-o', 'json']))
    const file = (JSON.parse(c.stdout).containers[0].mounts as Array<{destination: string; source: string}>).find((m) => m.destination === '/etc/resolv.conf')!.source
    const original = await readFile(file, 'utf8')
    await writeFile(file, original.replace(`nameserver ${CLUSTER_DNS}`, 'nameserver 10.96.0.99'))
    try {
      const report = await expectBroken('nameserver Service', /10\.96\.0\.99 is not a Service frontend/)
      expect(report.links.find((l) => l.name === 'resolv.conf')!.status).toBe('ok')
    } finally {
      await writeFile(file, original)
    }
    await clearServiceConntrack(['10.96.0.99'])
    await expectHealthy('iptables')
  })

  it('names a stale UDP conntrack entry that still sends a client port to a dead endpoint', async () => {
    const sport = 40000 + Math.floor(Math.random() * 20000)
    expect(resolved(await lookup(await mainPid('client'), sport))).toBe(true)
    // the endpoint dies and the Service moves to dns-b; the entry for that client port stays
    await killDns('dns-a')
    await writeIptablesRules(system, [ip('dns-b')])
    try {
      const report = await expectBroken('conntrack entries', new RegExp(`DNATed to ${ip('dns-a').replace(/\./g, '\\.')}, which is no endpoint now`), sport)
      expect(report.links.find((l) => l.name === 'endpoint pod')!.status).toBe('ok')
      // a lookup from any other port reaches the live endpoint: only that entry is wrong
      expect(resolved(await lookup(await mainPid('client')))).toBe(true)
    } finally {
      await clearServiceConntrack()
      await restartDns('dns-a')
      await writeIptablesRules(system, [ip('dns-a')])
      await clearServiceConntrack()
    }
    await expectHealthy('iptables')
  })

  it('names the hook when KUBE-SERVICES is not jumped to from PREROUTING/OUTPUT', async () => {
    await unhookServices()
    try {
      await expectBroken('kube-proxy hook', /nat PREROUTING does not jump to KUBE-SERVICES/)
    } finally {
      await writeIptablesRules(system, [ip('dns-a')])
      await clearServiceConntrack()
    }
    await expectHealthy('iptables')
  })

  it('names the DNS pod OOM-killed by its memory limit, and `why pod` says OOMKilled with the kill count', async () => {
    const zone = join(pod('dns-a').kubeletDir, 'volumes/kubernetes.io~empty-dir/zone/hosts')
    const lines: string[] = []
    for (let i = 0; i < 600_000; i++) lines.push(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255} h${i}.big.nodedoc.test`)
    await writeFile(zone, lines.join('\n') + '\n')
    // dnsmasq reads its hosts files again on SIGHUP: 600k names do not fit in 24Mi
    process.kill(await mainPid('dns-a'), 'SIGHUP')
    try {
      await until('dnsmasq to be OOM-killed', async () => (await node.cri.containerStatus(pod('dns-a').containers.at(-1)!.id!)).status?.state === 'CONTAINER_EXITED', 60_000)
      await expectBroken('endpoint pod', /none of its containers runs/)
      const {report, exitCode} = await why(['pod', 'dns-a', '-n', system])
      expect(exitCode).toBe(1)
      expect(report.verdict.link, JSON.stringify(report, null, 1)).toBe('memory')
      expect(report.verdict.reason).toMatch(/^OOMKilled: 1 OOM kill\(s\) in the pod's memory cgroup \(dnsmasq\), limit 24Mi/)
      // containerd writes reason OOMKilled only when its OOM event beats the exit: the kill count above does not depend on it
      expect(report.links.find((l) => l.name === 'containers')!.detail).toMatch(/dnsmasq is not running: exit 137 \(SIGKILL\)/)
    } finally {
      await writeFile(zone, '')
      await restartDns('dns-a')
    }
    await expectHealthy('iptables')
  })
})

describe.sequential('why dns, nftables mode', () => {
  beforeAll(async () => {
    await removeIptablesRules()
    await clearServiceConntrack()
    await must(['nft', '-f', '-'], kubeProxyNft(system, ip('dns-a')))
  })

  it('holds on a healthy node, where a real lookup resolves', async () => {
    await expectHealthy('nftables')
  })

  it('names the hook when nat-prerouting no longer jumps to services', async () => {
    await must(['nft', 'flush', 'chain', 'ip', 'kube-proxy', 'nat-prerouting'])
    try {
      await expectBroken('kube-proxy hook', /nat-prerouting does not jump to services/)
    } finally {
      await must(['nft', 'add', 'rule', 'ip', 'kube-proxy', 'nat-prerouting', 'jump', 'services'])
      await clearServiceConntrack()
    }
    await expectHealthy('nftables')
  })
})
