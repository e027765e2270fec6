import pMap from 'p-map'
import type {Host} from '../host/host.js'
import {shortId} from '../output/table.js'
import {identifyCgroupPath} from '../parse/cgroup.js'
import {parseKubeletVolumePath} from '../parse/kubelet-paths.js'
import {type MountinfoEntry, hostSourceOf, identifyFromMountinfo, isReadOnly, overlayLayers, parseMountinfo, propagation} from '../parse/mountinfo.js'
import {parseNamespaceLink} from '../parse/proc.js'
import {longestPrefixMatch} from '../parse/route.js'
import {type CgroupMounts, cgroupMountsOf, readCgroup, readHostMounts} from './cgroup-reader.js'
import {type ContainerDraft, type PodDraft, type PodIndex, containerCgroupPaths, indexPods, mainProcess, podCgroupPaths} from './pod-index.js'
import {type HostNetwork, type PodNetwork, pairHostVeth, readHostNetwork, readPodNetwork} from './pod-network.js'
import {listPodLogDirs, readLogIndex} from './log-files.js'
import {pidsInPodCgroup} from './pod-cgroups.js'
import {type ProcInfo, commandLine, scanProcesses} from './proc-scan.js'
import {gatherHostRoutes} from './routes.js'
import {byteOrder} from '../parse/order.js'
import {
  type ContainerReport,
  type LogFileRecord,
  type MountRecord,
  NAMESPACE_TYPES,
  type NamespaceInodes,
  type NamespaceSharing,
  type NamespaceType,
  type PodAddresses,
  type PodReport,
  type ProcessTreeNode,
} from './types.js'

/** Facts shared by every pod of one node, read once. */
interface NodeContext {
  hostNamespaces: NamespaceInodes
  hostMounts: MountinfoEntry[]
  cgroupMounts: CgroupMounts
  network: HostNetwork
}

async function readNamespaces(host: Host, pid: number, types: readonly NamespaceType[] = NAMESPACE_TYPES): Promise<NamespaceInodes> {
  const inodes: NamespaceInodes = {}
  await Promise.all(
    types.map(async (type) => {
      const target = await host.readLink(`/proc/${pid}/ns/${type}`)
      const inode = target ? parseNamespaceLink(target) : undefined
      if (inode !== undefined) inodes[type] = inode
    }),
  )
  return inodes
}

/**
 * The node's own namespaces. kthreadd (PID 2) lives in the kernel's initial namespaces and its
 * links are readable without matching PID 1's capabilities; in a node that is itself a container
 * (kind) there is no kthreadd and PID 1 is the node's init.
 */
export async function readNodeNamespaces(host: Host, types: readonly NamespaceType[] = NAMESPACE_TYPES): Promise<NamespaceInodes> {
  const status = await host.readFile('/proc/2/status')
  return readNamespaces(host, status && /^Name:\s+kthreadd$/m.test(status) ? 2 : 1, types)
}

async function readNodeContext(host: Host): Promise<NodeContext> {
  const [hostNamespaces, hostMounts, routes] = await Promise.all([readNodeNamespaces(host), readHostMounts(host), gatherHostRoutes(host)])
  return {hostNamespaces, hostMounts, cgroupMounts: cgroupMountsOf(hostMounts), network: await readHostNetwork(host, routes)}
}

function sharingOf(inodes: NamespaceInodes, sandbox: NamespaceInodes, hostNs: NamespaceInodes, isSandbox: boolean): Partial<Record<NamespaceType, NamespaceSharing>> {
  const out: Partial<Record<NamespaceType, NamespaceSharing>> = {}
  for (const type of NAMESPACE_TYPES) {
    const inode = inodes[type]
    if (inode === undefined) continue
    out[type] = inode === hostNs[type] ? 'host' : !isSandbox && inode === sandbox[type] ? 'sandbox' : 'own'
  }
  return out
}

function processTree(procs: ProcInfo[]): ProcessTreeNode[] {
  const nodes = new Map<number, ProcessTreeNode>(
    procs.map((p) => [p.pid, {pid: p.pid, nsPid: p.nsPid, state: p.state, zombie: p.state === 'Z', command: commandLine(p), children: []}]),
  )
  const roots: ProcessTreeNode[] = []
  for (const p of procs) {
    const parent = nodes.get(p.ppid)
    if (parent && p.ppid !== p.pid) parent.children.push(nodes.get(p.pid)!)
    else roots.push(nodes.get(p.pid)!)
  }
  return roots
}

async function readMounts(host: Host, pid: number, context: NodeContext): Promise<{mounts: MountRecord[]; entries: MountinfoEntry[]}> {
  const text = await host.readFile(`/proc/${pid}/mountinfo`)
  if (!text) return {mounts: [], entries: []}
  const {mounts: entries, bad} = parseMountinfo(text)
  if (bad) host.warnings.add(`bad:mountinfo`, `${bad} unparseable mountinfo lines skipped`, `/proc/${pid}/mountinfo`)
  const mounts = entries.map((m): MountRecord => {
    const layers = overlayLayers(m)
    const hostSource = layers ? null : hostSourceOf(m, context.hostMounts)
    const source = layers ? 'overlay' : (hostSource ?? m.source)
    const volume = parseKubeletVolumePath(source)
    return {
      destination: m.mountPoint,
      source,
      fsType: m.fsType,
      readOnly: isReadOnly(m),
      propagation: propagation(m),
      volume: volume && volume.plugin !== 'subPath' ? {name: volume.name, plugin: volume.plugin} : volume ? {name: volume.name, plugin: 'subPath'} : null,
      ...(layers ? {overlay: layers} : {}),
    }
  })
  return {mounts, entries}
}

async function inspectContainer(host: Host, pod: PodDraft, c: ContainerDraft, sandboxNs: NamespaceInodes, context: NodeContext, findings: string[]): Promise<ContainerReport> {
  const main = mainProcess(c.procs)
  const namespaces = main ? await readNamespaces(host, main.pid) : {}
  const {mounts, entries} = main ? await readMounts(host, main.pid, context) : {mounts: [], entries: []}
  let name = c.name
  if (!name && entries.length) {
    name = identifyFromMountinfo(entries, (root) => identifyCgroupPath(root).containerId).containerName
  }
  const cgroupPaths = main ? containerCgroupPaths(main) : new Map<string, string>()
  const reportPath = cgroupPaths.get('memory') ?? cgroupPaths.get('') ?? [...cgroupPaths.values()][0]
  const cgroup = main && reportPath ? await readCgroup(host, context.cgroupMounts, main.identity.version, cgroupPaths, reportPath) : null
  const logFiles = name ? pod.logs?.containers.find((l) => l.name === name)?.files : undefined
  const zombies = c.procs.filter((p) => p.state === 'Z')
  if (zombies.length) findings.push(`container ${name ?? shortId(c.id)}: ${zombies.length} zombie process(es): ${zombies.map((z) => z.pid).join(', ')}`)
  return {
    name,
    id: c.id,
    state: !main ? 'exited' : main.state === 'Z' ? 'zombie' : 'running',
    pid: main?.pid ?? null,
    nsPid: main?.nsPid ?? null,
    command: main ? commandLine(main) : null,
    restartCount: logFiles?.length ? Math.max(...logFiles.map((f) => f.restart)) : null,
    namespaces,
    namespaceSharing: sharingOf(namespaces, sandboxNs, context.hostNamespaces, false),
    mounts,
    cgroup,
    processes: processTree(c.procs),
  }
}

/**
 * A pod's addresses and the node-side end of its veth, read through one of its processes (the
 * pod is not on the node's network). hostNetwork: the node's links and named netns, read when
 * first asked for.
 */
async function readPodAddresses(host: Host, netPid: number, netInode: number | undefined, hostNetwork: () => Promise<HostNetwork>): Promise<{network: PodNetwork; hostVeth: PodReport['hostVeth']}> {
  const network = await readPodNetwork(host, netPid)
  const veth = pairHostVeth(await hostNetwork(), network, netInode ?? null)
  return {network, hostVeth: veth ? {name: veth.name, ifindex: veth.ifindex} : null}
}

async function inspectPod(host: Host, pod: PodDraft, index: PodIndex, context: NodeContext): Promise<PodReport> {
  const findings: string[] = []
  const drafts = [...pod.containers.values()]
  const sandbox = drafts.find((c) => c.sandbox)
  const sandboxMain = sandbox ? mainProcess(sandbox.procs) : undefined
  const sandboxNs = sandboxMain ? await readNamespaces(host, sandboxMain.pid) : {}
  const workload = drafts.filter((c) => !c.sandbox)
  const containers = await Promise.all(workload.map((c) => inspectContainer(host, pod, c, sandboxNs, context, findings)))

  // containers that have logs but no process: exited, or not started yet
  const seen = new Set(containers.map((c) => c.name))
  for (const {name, files} of pod.logs?.containers ?? []) {
    if (seen.has(name)) continue
    const link = index.logIndex.links.find((l) => l.container === name && files.some((f) => f.path === l.target))
    containers.push({
      name, id: link?.containerId ?? '', state: 'exited', pid: null, nsPid: null, command: null,
      restartCount: files.length ? Math.max(...files.map((f) => f.restart)) : null,
      namespaces: {}, namespaceSharing: {}, mounts: [], cgroup: null, processes: [],
    })
  }
  containers.sort((a, b) => byteOrder(a.name ?? '', b.name ?? ''))

  const allProcs = [...drafts.flatMap((c) => c.procs), ...pod.podLevelProcs]
  const podPaths = podCgroupPaths(allProcs)
  const podPath = podPaths.get('memory') ?? podPaths.get('') ?? [...podPaths.values()][0]
  const cgroup = podPath ? await readCgroup(host, context.cgroupMounts, pod.cgroupVersion, podPaths, podPath) : null

  const netPid = sandboxMain?.pid ?? containers.find((c) => c.pid !== null)?.pid ?? null
  const netNs = sandboxMain ? sandboxNs : (containers.find((c) => c.pid !== null)?.namespaces ?? {})
  const hostNetwork = netNs.net !== undefined && netNs.net === context.hostNamespaces.net
  const hostPID = netNs.pid !== undefined && containers.some((c) => c.namespaces.pid === context.hostNamespaces.pid)
  const hostIPC = netNs.ipc !== undefined && netNs.ipc === context.hostNamespaces.ipc
  const own = netPid !== null && !hostNetwork ? await readPodAddresses(host, netPid, netNs.net, async () => context.network) : undefined
  const ips = own?.network.ips ?? []
  const route = ips.length ? longestPrefixMatch(context.network.routes, ips[0]) : undefined
  const hostRoute: PodReport['hostRoute'] = route ? {destination: route.destination, dev: route.dev, via: route.via} : null

  const logs: LogFileRecord[] = []
  for (const {name: container, files} of pod.logs?.containers ?? []) {
    for (const f of files) logs.push({container, path: f.path, sizeBytes: f.sizeBytes, restart: f.restart, links: index.logIndex.links.filter((l) => l.target === f.path).map((l) => l.link)})
  }

  const distinct = new Set(pod.names.map((n) => `${n.namespace}/${n.name}`))
  if (distinct.size > 1) findings.push(`pod identity differs between sources: ${pod.names.map((n) => `${n.namespace}/${n.name} (${n.source})`).join('; ')}`)
  if (pod.cgroupDriver === 'mismatch') findings.push('cgroup path is systemd-style "slice:prefix:id" but was made by a cgroupfs manager: kubelet and runtime disagree on the cgroup driver')
  if (!sandbox && drafts.length) findings.push('no sandbox (pause) container found among the pod cgroup\'s processes')
  for (const c of containers) if (c.state === 'exited' && pod.containers.size) findings.push(`container ${c.name}: no running process`)

  return {
    namespace: pod.namespace,
    name: pod.name,
    uid: pod.uid,
    qosClass: pod.qosClass,
    runtime: pod.runtime,
    cgroupVersion: pod.cgroupVersion,
    cgroupDriver: pod.cgroupDriver,
    sandbox: {id: sandbox?.id ?? null, pid: sandboxMain?.pid ?? null, namespaces: sandboxNs},
    cgroup,
    containers,
    hostNetwork,
    hostPID,
    hostIPC,
    ips,
    interfaces: own?.network.interfaces ?? [],
    hostVeth: own?.hostVeth ?? null,
    hostRoute,
    logs,
    findings,
  }
}

/** Who a pod is, in one line: for "not found" answers and listings. */
export interface PodSummary {
  namespace: string | null
  name: string | null
  uid: string
  containers: number
  running: boolean
}

function summarise(pod: PodDraft): PodSummary {
  return {namespace: pod.namespace, name: pod.name, uid: pod.uid, containers: [...pod.containers.values()].filter((c) => !c.sandbox).length, running: pod.containers.size > 0}
}

export interface PodQuery {
  name?: string
  namespace?: string
  uid?: string
}

export type PodLookup = {kind: 'found'; report: PodReport} | {kind: 'not-found' | 'ambiguous'; candidates: PodSummary[]; known: PodSummary[]}

function matches(pod: PodDraft, query: PodQuery): boolean {
  if (query.uid) return pod.uid === query.uid || pod.uid.replace(/-/g, '') === query.uid.replace(/-/g, '')
  return pod.name === query.name && (query.namespace === undefined || pod.namespace === query.namespace)
}

/** One pod by name (and namespace) or UID, inspected in full. */
export async function findPod(host: Host, query: PodQuery): Promise<PodLookup> {
  const fast = await findPodByCgroup(host, query)
  if (fast) return fast
  const procs = await scanProcesses(host, (identity) => identity.podUid !== null)
  const index = await indexPods(host, procs)
  const all = [...index.pods.values()]
  const hits = all.filter((p) => matches(p, query))
  const known = all.map(summarise).sort(bySummary)
  if (hits.length !== 1) return {kind: hits.length ? 'ambiguous' : 'not-found', candidates: hits.map(summarise), known}
  const context = await readNodeContext(host)
  return {kind: 'found', report: await inspectPod(host, hits[0], index, context)}
}

/**
 * The quick way to one pod: its UID from the kubelet's log folder names (or --uid), its PIDs
 * from its cgroup's cgroup.procs, so only its own processes and log files are read. Anything
 * unclear (no log folder, the name in two namespaces, no pod cgroup folder) falls back to the
 * full scan.
 */
async function findPodByCgroup(host: Host, query: PodQuery): Promise<PodLookup | undefined> {
  const dirs = (await listPodLogDirs(host)).filter((d) =>
    query.uid ? d.uid === query.uid : d.name === query.name && (query.namespace === undefined || d.namespace === query.namespace),
  )
  if (dirs.length !== 1 && !(query.uid && dirs.length === 0)) return undefined
  const uid = dirs[0]?.uid ?? query.uid!
  const context = await readNodeContext(host)
  const pids = await pidsInPodCgroup(host, context.cgroupMounts, uid)
  if (!pids?.length) return undefined
  const procs = await scanProcesses(host, (identity) => identity.podUid === uid, pids)
  const logIndex = await readLogIndex(host, {uid, namespace: dirs[0]?.namespace ?? null, name: dirs[0]?.name ?? null})
  const index = await indexPods(host, procs, logIndex)
  const pod = index.pods.get(uid)
  if (!pod || !matches(pod, query)) return undefined
  return {kind: 'found', report: await inspectPod(host, pod, index, context)}
}

function bySummary(a: PodSummary, b: PodSummary): number {
  return byteOrder(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`)
}

/** By namespace/name; pods of one name stay in the index's order. */
function byPodName(a: PodAddresses, b: PodAddresses): number {
  return byteOrder(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`)
}

/** Every pod this node runs (or has traces of), read from host files alone. */
export async function gatherPods(host: Host): Promise<PodReport[]> {
  const procs = await scanProcesses(host, (identity) => identity.podUid !== null)
  const index = await indexPods(host, procs)
  const context = await readNodeContext(host)
  const reports = await pMap([...index.pods.values()], (pod) => inspectPod(host, pod, index, context), {concurrency: 8})
  return reports.sort(byPodName)
}

/**
 * What gatherPods tells of each pod's identity, addresses and node-side veth, and nothing else
 * (svc locates endpoints with it): the pods and their order as gatherPods gives them, with only
 * the sandbox's network namespace and network files read, the node's links only when a pod has
 * its own network. A pod with running containers but no sandbox found (whose network inspectPod
 * reads through the container it orders first) is inspected in full.
 */
export async function gatherPodAddresses(host: Host): Promise<PodAddresses[]> {
  const procs = await scanProcesses(host, (identity) => identity.podUid !== null)
  const index = await indexPods(host, procs)
  let nodeNet: Promise<number | undefined> | undefined
  let network: Promise<HostNetwork> | undefined
  let context: Promise<NodeContext> | undefined
  const hostNetwork = () => (network ??= gatherHostRoutes(host).then((routes) => readHostNetwork(host, routes)))
  const addresses = async (pod: PodDraft): Promise<PodAddresses> => {
    const drafts = [...pod.containers.values()]
    const sandbox = drafts.find((c) => c.sandbox)
    const who = {namespace: pod.namespace, name: pod.name, uid: pod.uid}
    if (!sandbox) {
      if (!drafts.length) return {...who, ips: [], hostVeth: null}
      const report = await inspectPod(host, pod, index, await (context ??= readNodeContext(host)))
      return {...who, ips: report.ips, hostVeth: report.hostVeth}
    }
    const netPid = mainProcess(sandbox.procs)!.pid
    const [{net}, nodeNetInode] = await Promise.all([readNamespaces(host, netPid, ['net']), (nodeNet ??= readNodeNamespaces(host, ['net']).then((n) => n.net))])
    if (net !== undefined && net === nodeNetInode) return {...who, ips: [], hostVeth: null}
    const {network: {ips}, hostVeth} = await readPodAddresses(host, netPid, net, hostNetwork)
    return {...who, ips, hostVeth}
  }
  const pods = await pMap([...index.pods.values()], addresses, {concurrency: 8})
  return pods.sort(byPodName)
}

/** The pods of this node in one line each, cheaply (no per-pod detail reads). */
export async function listPods(host: Host): Promise<PodSummary[]> {
  const procs = await scanProcesses(host, (identity) => identity.podUid !== null)
  const index = await indexPods(host, procs)
  return [...index.pods.values()].map(summarise).sort(bySummary)
}

/** Reads each pod's cgroup.procs, the quick path `pod NAME` takes (so snapshots can take it too). */
export async function gatherPodCgroupProcs(host: Host): Promise<void> {
  const [pods, context] = await Promise.all([listPods(host), readNodeContext(host)])
  for (const pod of pods) await pidsInPodCgroup(host, context.cgroupMounts, pod.uid)
}
