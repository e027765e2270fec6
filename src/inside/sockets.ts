import pMap from 'p-map'
import type {Host} from '../host/host.js'
import {type PodQuery, gatherPods} from '../pods/pods.js'
import type {ContainerRef, PodReport, ProcessTreeNode} from '../pods/types.js'
import {byteOrder} from '../parse/order.js'
import {parseProcNetSockets, parseProcNetUnix, socketInode} from '../parse/sockets.js'
import {lookupPod, podRef} from './target.js'
import type {SocketOwner, SocketRecord} from './types.js'

// `ss -tuxanp` inside a pod, without entering it: a network namespace's sockets are in
// /proc/<pid>/net/{tcp,tcp6,udp,udp6,unix} of any process in it, and a process's fd links name
// the sockets it holds (socket:[inode]), which ties each socket to a PID and so to a container.

const TABLES: Array<{file: string; protocol: 'tcp' | 'udp'; family: 'ipv4' | 'ipv6'}> = [
  {file: 'tcp', protocol: 'tcp', family: 'ipv4'},
  {file: 'tcp6', protocol: 'tcp', family: 'ipv6'},
  {file: 'udp', protocol: 'udp', family: 'ipv4'},
  {file: 'udp6', protocol: 'udp', family: 'ipv6'},
]

export interface SocketsQuery {
  pod?: PodQuery
  container?: string
  listening?: boolean
}

function flatten(nodes: ProcessTreeNode[]): ProcessTreeNode[] {
  return nodes.flatMap((n) => [n, ...flatten(n.children)])
}

/** Every socket a process holds: inode -> where (fd). */
async function socketsHeldBy(host: Host, pid: number): Promise<Map<number, number>> {
  const held = new Map<number, number>()
  const fds = (await host.readDir(`/proc/${pid}/fd`)) ?? []
  for (const fd of fds) {
    const inode = socketInode((await host.readLink(`/proc/${pid}/fd/${fd.name}`)) ?? '')
    if (inode !== undefined && !held.has(inode)) held.set(inode, Number(fd.name))
  }
  return held
}

/** One network namespace's sockets, read through a process in it. */
async function readNetns(host: Host, pid: number): Promise<Array<Omit<SocketRecord, 'pod' | 'netnsInode' | 'owners'>>> {
  const out: Array<Omit<SocketRecord, 'pod' | 'netnsInode' | 'owners'>> = []
  for (const table of TABLES) {
    const text = await host.readFile(`/proc/${pid}/net/${table.file}`)
    if (text === undefined) continue
    const {sockets, bad} = parseProcNetSockets(text, table.protocol, table.family)
    if (bad) host.warnings.add(`bad:net/${table.file}`, `${bad} unparseable /proc/<pid>/net/${table.file} rows skipped`, `/proc/${pid}/net/${table.file}`)
    for (const s of sockets) out.push({...s, path: null})
  }
  const unix = await host.readFile(`/proc/${pid}/net/unix`)
  for (const s of unix ? parseProcNetUnix(unix) : []) {
    out.push({protocol: 'unix', family: 'unix', type: s.type, state: s.state, localAddress: null, localPort: null, peerAddress: null, peerPort: null, path: s.path, sendQueue: null, recvQueue: null, inode: s.inode})
  }
  return out
}

interface Holder {
  pid: number
  command: string
  container: ContainerRef | null
}

/** The sockets of one pod: every socket of its own network namespace, and on the host's network only those its processes hold. */
async function podSockets(host: Host, pod: PodReport): Promise<SocketRecord[]> {
  const holders: Holder[] = []
  for (const c of pod.containers) for (const p of flatten(c.processes)) holders.push({pid: p.pid, command: p.command, container: {name: c.name, id: c.id}})
  const owners = new Map<number, SocketOwner[]>()
  await pMap(holders, async (h) => {
    for (const [inode, fd] of await socketsHeldBy(host, h.pid)) {
      const list = owners.get(inode) ?? owners.set(inode, []).get(inode)!
      list.push({pid: h.pid, fd, command: h.command, container: h.container})
    }
  }, {concurrency: 16})

  // one read per network namespace: the sandbox's, and any container's own
  const netns = new Map<number | null, {pid: number; host: boolean}>()
  if (pod.sandbox.pid !== null) netns.set(pod.sandbox.namespaces.net ?? null, {pid: pod.sandbox.pid, host: pod.hostNetwork})
  for (const c of pod.containers) {
    if (c.pid === null) continue
    const inode = c.namespaces.net ?? null
    if (!netns.has(inode)) netns.set(inode, {pid: c.pid, host: c.namespaceSharing.net === 'host' || pod.hostNetwork})
  }
  const records: SocketRecord[] = []
  for (const [inode, {pid, host: isHost}] of netns) {
    for (const s of await readNetns(host, pid)) {
      const held = (owners.get(s.inode) ?? []).sort((a, b) => a.pid - b.pid || a.fd - b.fd)
      // the node's namespace holds every other program's sockets too: keep the pod's own
      if (isHost && held.length === 0) continue
      records.push({pod: podRef(pod), ...s, netnsInode: inode, owners: held})
    }
  }
  return records
}

const PROTOCOL_ORDER = {tcp: 0, udp: 1, unix: 2}

function order(a: SocketRecord, b: SocketRecord): number {
  return (
    byteOrder(`${a.pod.namespace}/${a.pod.name}`, `${b.pod.namespace}/${b.pod.name}`) ||
    PROTOCOL_ORDER[a.protocol] - PROTOCOL_ORDER[b.protocol] ||
    byteOrder(a.family, b.family) ||
    (a.localPort ?? 0) - (b.localPort ?? 0) ||
    byteOrder(a.path ?? '', b.path ?? '') ||
    a.inode - b.inode
  )
}

function listening(s: SocketRecord): boolean {
  return s.state === 'LISTEN' || (s.protocol === 'udp' && s.state === 'UNCONN')
}

/** The sockets of one pod, or of every pod on the node. */
export async function gatherSockets(host: Host, query: SocketsQuery = {}): Promise<SocketRecord[]> {
  const pods = query.pod ? [await lookupPod(host, query.pod)] : await gatherPods(host)
  const all = (await pMap(pods, (pod) => podSockets(host, pod), {concurrency: 4})).flat()
  return all
    .filter((s) => !query.listening || listening(s))
    .filter((s) => query.container === undefined || s.owners.some((o) => o.container?.name === query.container))
    .sort(order)
}
