// A kube-dns in front of real dnsmasq pods on the test node, as kube-proxy would write it, and a
// real lookup from a client pod's network namespace. Everything here is made by the test and
// removed by cleanup(); nothing leaves the node: un-DNATed packets meet unreachable routes.
import {copyFile, mkdir} from 'node:fs/promises'
import {dirname, join} from 'node:path'
import {execa} from 'execa'
// @ts-expect-error plain JS generator shared with the benchmark
import {chainHash, kubeProxyRestore} from '../../../bench/svc-gen.mjs'
import {type ExtraImage, busyboxRootfs} from '../node/images.js'
import type {PodSpec} from '../node/kubelet.js'
import {POD_SUBNET} from '../node/layout.js'

export const DNSMASQ_IMAGE = 'nodedoc.local/dnsmasq:2.90'
export const CLUSTER_DNS = '10.96.0.10'
export const SERVICE_RANGE = '10.96.0.0/12'
/** The answer the test zone gives: DNS data only, never a packet's destination. */
export const WEB_IP = '198.51.100.7'
export const WEB_NAME = 'web.nodedoc.test.'
/** Guards that catch what kube-proxy's rules do not DNAT: a metric of our own to find them by. */
const GUARD_METRIC = '4242'

export async function must(argv: string[], input?: string): Promise<string> {
  const r = await execa(argv[0], argv.slice(1), {reject: false, input, env: {LC_ALL: 'C'}})
  if (r.exitCode !== 0) throw new Error(`${argv.join(' ')} failed (${r.exitCode}): ${String(r.stderr).trim()}`)
  return String(r.stdout)
}

export async function run(argv: string[]): Promise<{stdout: string; exitCode: number}> {
  const r = await execa(argv[0], argv.slice(1), {reject: false, env: {LC_ALL: 'C'}})
  return {stdout: String(r.stdout), exitCode: r.exitCode ?? 1}
}

/** dnsmasq from Debian's package with the libraries ldd names, on the busybox rootfs. */
export const dnsmasqImage: ExtraImage = {
  name: DNSMASQ_IMAGE,
  async fill(rootfs) {
    await busyboxRootfs(rootfs)
    const files = ['/usr/sbin/dnsmasq']
    for (const line of (await must(['ldd', '/usr/sbin/dnsmasq'])).split('\n')) {
      const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line)
      if (m) files.push(m[1])
    }
    for (const file of files) {
      await mkdir(join(rootfs, dirname(file)), {recursive: true})
      await copyFile(file, join(rootfs, file))
    }
    return {Entrypoint: ['/usr/sbin/dnsmasq'], Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin']}
  },
}

/** A kube-dns pod: dnsmasq answering the test zone, with a memory limit it can be pushed past. */
export function dnsPodSpec(name: string, namespace: string): PodSpec {
  return {
    name,
    namespace,
    labels: {'k8s-app': 'kube-dns'},
    emptyDirs: ['zone'],
    containers: [{
      name: 'dnsmasq',
      image: DNSMASQ_IMAGE,
      command: ['/usr/sbin/dnsmasq'],
      args: ['-k', '--user=root', '--group=root', '--no-resolv', '--no-hosts', '--pid-file=', '--log-facility=-', '--log-queries',
        '--local=/nodedoc.test/', '--local=/cluster.local/', `--host-record=web.nodedoc.test,${WEB_IP}`, '--addn-hosts=/zone/hosts'],
      resources: {requests: {memory: '16Mi'}, limits: {memory: '24Mi'}},
      volumeMounts: [{name: 'zone', mountPath: '/zone'}],
    }],
  }
}

export function clientPodSpec(namespace: string): PodSpec {
  return {name: 'client', namespace, labels: {app: 'client'}, containers: [{name: 'client', command: ['sleep', '10000']}]}
}

/** This test's namespaces: kube-dns rules of one of them are left over from a run that was killed. */
const OURS = /^why-[0-9a-f]{6}-system\/kube-dns:dns(-tcp)?\b/

/**
 * Refuses to run where kube-proxy-shaped rules already exist, unless every service they name is
 * this test's own (a run killed before its cleanup): those are removed first.
 */
export async function assertNoKubeProxy(): Promise<void> {
  const nat = await run(['iptables', '-t', 'nat', '-S'])
  const nft = await run(['nft', 'list', 'table', 'ip', 'kube-proxy'])
  const names = [...nat.stdout.matchAll(/--comment "([^"]+)"/g)].map((m) => m[1]).filter((c) => !c.startsWith('kubernetes '))
  const nftNames = [...nft.stdout.matchAll(/(?:service|endpoint)-[A-Z0-9]{8}-([^/\s]+)\/kube-dns\//g)].map((m) => `${m[1]}/kube-dns:dns`)
  const foreign = [...names, ...nftNames].filter((n) => !OURS.test(n))
  if (foreign.length || (nft.exitCode === 0 && nftNames.length === 0)) throw new Error(`kube-proxy rules of someone else on this machine (${foreign[0] ?? 'nft table ip kube-proxy'}): not touching them`)
  if (names.length || nftNames.length || /^-N KUBE-SERVICES$/m.test(nat.stdout)) await cleanup([])
  for (const range of [SERVICE_RANGE, POD_SUBNET]) while ((await run(['ip', 'route', 'del', 'unreachable', range, 'metric', GUARD_METRIC])).exitCode === 0);
}

export async function addGuards(): Promise<void> {
  for (const range of [SERVICE_RANGE, POD_SUBNET]) await must(['ip', 'route', 'add', 'unreachable', range, 'metric', GUARD_METRIC])
}

const HOOKS: Array<[string, string, string[]]> = [
  ['nat', 'PREROUTING', ['-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES']],
  ['nat', 'OUTPUT', ['-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES']],
  ['nat', 'POSTROUTING', ['-m', 'comment', '--comment', 'kubernetes postrouting rules', '-j', 'KUBE-POSTROUTING']],
  ['filter', 'FORWARD', ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES']],
  ['filter', 'OUTPUT', ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES']],
]

/** kube-proxy's restore input for kube-dns (dns udp 53, dns-tcp tcp 53) in front of `endpoints`. */
export async function writeIptablesRules(namespace: string, endpoints: string[]): Promise<void> {
  const eps = endpoints.map((ip) => ({ip, port: 53}))
  const text = kubeProxyRestore([
    {namespace, name: 'kube-dns', portName: 'dns', protocol: 'udp', clusterIP: CLUSTER_DNS, port: 53, endpoints: eps},
    {namespace, name: 'kube-dns', portName: 'dns-tcp', protocol: 'tcp', clusterIP: CLUSTER_DNS, port: 53, endpoints: eps},
  ], {clusterCIDR: POD_SUBNET}) as string
  await must(['iptables-restore', '--noflush'], text)
  // kube-proxy deletes the chains of endpoints that went away
  const nat = await must(['iptables', '-t', 'nat', '-S'])
  for (const chain of nat.match(/^-N (KUBE-SEP-\S+)/gm)?.map((l) => l.slice(3)) ?? []) {
    if (!new RegExp(`-j ${chain}\\b`).test(nat)) {
      await must(['iptables', '-t', 'nat', '-F', chain])
      await must(['iptables', '-t', 'nat', '-X', chain])
    }
  }
  if ((await run(['iptables', '-t', 'mangle', '-S', 'KUBE-IPTABLES-HINT'])).exitCode !== 0) await must(['iptables', '-t', 'mangle', '-N', 'KUBE-IPTABLES-HINT'])
  for (const [table, chain, rule] of HOOKS) {
    if ((await run(['iptables', '-t', table, '-C', chain, ...rule])).exitCode !== 0) await must(['iptables', '-t', table, '-I', chain, ...rule])
  }
}

/** Takes the nat PREROUTING and OUTPUT jumps to KUBE-SERVICES away. */
export async function unhookServices(): Promise<void> {
  for (const [table, chain, rule] of HOOKS.filter(([t, , r]) => t === 'nat' && r.at(-1) === 'KUBE-SERVICES')) await must(['iptables', '-t', table, '-D', chain, ...rule])
}

/** The KUBE-SVC chain of a service port, and the jump to its endpoint chain. */
export function svcChain(namespace: string, portName: string, protocol: string): string {
  return `KUBE-SVC-${chainHash(`${namespace}/kube-dns:${portName}`, protocol)}`
}

export async function removeIptablesRules(): Promise<void> {
  for (const [table, chain, rule] of HOOKS) while ((await run(['iptables', '-t', table, '-D', chain, ...rule])).exitCode === 0);
  for (const table of ['nat', 'filter', 'mangle']) {
    const chains = ((await run(['iptables', '-t', table, '-S'])).stdout.match(/^-N KUBE-\S+/gm) ?? []).map((l) => l.slice(3))
    for (const chain of chains) await run(['iptables', '-t', table, '-F', chain])
    for (const chain of chains) await run(['iptables', '-t', table, '-X', chain])
  }
}

/** kube-proxy's nftables-mode table for kube-dns in front of one endpoint (the `nft -f` text it writes). */
export function kubeProxyNft(namespace: string, endpoint: string): string {
  const lines = [
    'add table ip kube-proxy { comment "rules for kube-proxy" ; }',
    'add chain ip kube-proxy mark-for-masquerade',
    'add rule ip kube-proxy mark-for-masquerade mark set mark or 0x4000',
    'add chain ip kube-proxy masquerading',
    'add rule ip kube-proxy masquerading mark and 0x4000 == 0 return',
    'add rule ip kube-proxy masquerading mark set mark xor 0x4000',
    'add rule ip kube-proxy masquerading masquerade fully-random',
    'add chain ip kube-proxy services',
    'add chain ip kube-proxy nat-prerouting { type nat hook prerouting priority -100 ; }',
    'add rule ip kube-proxy nat-prerouting jump services',
    'add chain ip kube-proxy nat-output { type nat hook output priority -100 ; }',
    'add rule ip kube-proxy nat-output jump services',
    'add chain ip kube-proxy nat-postrouting { type nat hook postrouting priority 100 ; }',
    'add rule ip kube-proxy nat-postrouting jump masquerading',
    'add set ip kube-proxy cluster-ips { type ipv4_addr ; comment "Active ClusterIPs" ; }',
    'add map ip kube-proxy service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }',
    'add map ip kube-proxy service-nodeports { type inet_proto . inet_service : verdict ; comment "NodePort traffic" ; }',
    'add rule ip kube-proxy services ip daddr . meta l4proto . th dport vmap @service-ips',
    'add element ip kube-proxy cluster-ips { ' + CLUSTER_DNS + ' }',
  ]
  // endpoint chains first: a vmap may only name chains that exist
  for (const [port, protocol] of [['dns', 'udp'], ['dns-tcp', 'tcp']]) {
    const id = `${namespace}/kube-dns/${protocol}/${port}`
    const service = `service-${chainHash(id).slice(0, 8)}-${id}`
    const ep = `endpoint-${chainHash(id, endpoint).slice(0, 8)}-${id}__${endpoint}/53`
    lines.push(
      `add chain ip kube-proxy ${ep}`,
      `add rule ip kube-proxy ${ep} ip saddr ${endpoint} jump mark-for-masquerade`,
      `add rule ip kube-proxy ${ep} meta l4proto ${protocol} dnat to ${endpoint}:53`,
      `add chain ip kube-proxy ${service}`,
      `add rule ip kube-proxy ${service} ip daddr ${CLUSTER_DNS} ip saddr != ${POD_SUBNET} jump mark-for-masquerade`,
      `add rule ip kube-proxy ${service} numgen random mod 1 vmap { 0 : goto ${ep} }`,
      `add element ip kube-proxy service-ips { ${CLUSTER_DNS} . ${protocol} . 53 : goto ${service} }`,
    )
  }
  return lines.join('\n') + '\n'
}

export async function removeNftRules(): Promise<void> {
  await run(['nft', 'delete', 'table', 'ip', 'kube-proxy'])
}

/** What kube-proxy does when a Service's endpoints change: forget UDP entries to its ClusterIP. */
export async function clearServiceConntrack(ips: string[] = [CLUSTER_DNS]): Promise<void> {
  for (const ip of ips) await run(['conntrack', '-D', '-p', 'udp', '--orig-dst', ip])
}

/** Entries whose original source or destination is one of ours, left over. */
export async function conntrackLeft(ips: string[]): Promise<string[]> {
  const left: string[] = []
  for (const ip of ips) for (const flag of ['-s', '-d']) {
    const out = (await run(['conntrack', '-L', flag, ip])).stdout.trim()
    if (out) left.push(...out.split('\n'))
  }
  return left
}

export async function cleanup(podIps: string[]): Promise<void> {
  await removeIptablesRules()
  await removeNftRules()
  for (const range of [SERVICE_RANGE, POD_SUBNET]) while ((await run(['ip', 'route', 'del', 'unreachable', range, 'metric', GUARD_METRIC])).exitCode === 0);
  for (const ip of [...podIps, CLUSTER_DNS, '10.96.0.99']) for (const flag of ['-s', '-d']) await run(['conntrack', '-D', flag, ip])
}

const LOOKUP = `
import json, random, socket, struct, sys
path, name, sport = sys.argv[1], sys.argv[2], int(sys.argv[3])
ns = next(l.split()[1] for l in open(path) if l.startswith('nameserver'))
qid = random.randrange(65536)
q = struct.pack('>HHHHHH', qid, 0x0100, 1, 0, 0, 0) + b''.join(bytes([len(p)]) + p.encode() for p in name.rstrip('.').split('.')) + b'\\0' + struct.pack('>HH', 1, 1)
out = {'nameserver': ns, 'answered': False}
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
if sport: s.bind(('0.0.0.0', sport))
s.settimeout(1.5)
s.connect((ns, 53))
for attempt in range(2):
    try:
        s.send(q)
        data = s.recv(4096)
    except OSError as e:
        out['error'] = str(e)
        continue
    if data[:2] != q[:2]:
        continue
    out.update(answered=True, rcode=data[3] & 15, answers=struct.unpack('>H', data[6:8])[0])
    if out['answers']:
        out['address'] = socket.inet_ntoa(data[-4:])
    break
print(json.dumps(out))
`

export interface Lookup {
  nameserver: string
  answered: boolean
  rcode?: number
  address?: string
  error?: string
}

/** A real A query for the test zone's name from the client's network namespace, to the nameserver its resolv.conf names. */
export async function lookup(clientPid: number, sport = 0): Promise<Lookup> {
  const out = await must(['nsenter', '-t', String(clientPid), '-n', 'python3', '-c', LOOKUP, `/proc/${clientPid}/root/etc/resolv.conf`, WEB_NAME, String(sport)])
  return JSON.parse(out) as Lookup
}

export const resolved = (l: Lookup) => l.answered && l.rcode === 0 && l.address === WEB_IP
