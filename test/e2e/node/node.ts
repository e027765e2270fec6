import {access, lstat, mkdir, readdir, readFile, rm, rmdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {execa} from 'execa'
import {criClient} from '../../../src/host/cri-transport.js'
import type {CriClient} from '../../../src/host/cri-api.js'
import {DEFAULT_NAMESPACES, type Namespaces, podCatalogue} from './catalogue.js'
import {alive, isContainerd, sleep, startContainerd, stopContainerd} from './containerd.js'
import {type ExtraImage, buildAndImportImages} from './images.js'
import {CGROUP_ROOT, type PodSpec, createPod, newPodState, podUid} from './kubelet.js'
import {
  APT_PACKAGES, BRIDGE, NODE_LOCK, CNI_CONF_DIR, CNI_STATE_DIR, CONTAINERD_CONFIG, CONTAINERD_ROOT, CONTAINERD_SOCKET, CONTAINERD_STATE,
  CONTAINER_LOGS, KUBELET_DIR, KUBELET_PODS, NETWORK_NAME, NODE_DIR, POD_LOGS, cniConflist, containerdConfig,
} from './layout.js'
import {type NodeState, type PodState, emptyState, loadState, saveState} from './state.js'

export interface TestNode {
  state: NodeState
  cri: CriClient
  pods: PodState[]
  endpoint: string
}

/** nodeUp failed; what it had made is removed, and `left` says what could not be. */
export class NodeUpError extends Error {
  constructor(readonly cause: string, readonly state: NodeState, readonly left: string[]) {
    super(`test node failed to start: ${cause}${left.length ? `\nleft behind:\n  ${left.join('\n  ')}` : ''}`)
  }
}

const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward'
const SHARED_ROOTS = [CONTAINERD_ROOT, CONTAINERD_STATE, CNI_STATE_DIR, KUBELET_DIR, KUBELET_PODS, POD_LOGS, CONTAINER_LOGS]
/** containerd's own trees: removed whole when this node made them */
const OWNED_TREES = [CONTAINERD_ROOT, CONTAINERD_STATE]
const QOS_CGROUPS = ['kubepods', 'kubepods/burstable', 'kubepods/besteffort']

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false)
}

async function linkExists(path: string): Promise<boolean> {
  return lstat(path).then(() => true, () => false)
}

async function cgroupControllers(): Promise<string[]> {
  const entries = await readdir(CGROUP_ROOT, {withFileTypes: true})
  return entries.filter((e) => e.isDirectory()).map((e) => join(CGROUP_ROOT, e.name))
}

async function nftTables(): Promise<string[]> {
  const result = await execa('nft', ['list', 'tables'], {reject: false})
  return result.exitCode === 0 ? String(result.stdout).split('\n').map((l) => l.trim()).filter(Boolean) : []
}

async function linkPresent(name: string): Promise<boolean> {
  return (await execa('ip', ['link', 'show', name], {reject: false})).exitCode === 0
}

/** Debian packages the node needs; apt-get only when a program is missing. */
export async function ensurePackages(): Promise<void> {
  const needed = ['containerd', 'ctr', 'runc', 'iptables', 'busybox', 'gcc']
  const missing: string[] = []
  for (const program of needed) if ((await execa('which', [program], {reject: false})).exitCode !== 0) missing.push(program)
  if (!(await exists('/usr/lib/cni/bridge')) || !(await exists('/usr/lib/cni/host-local'))) missing.push('cni plugins')
  if (!(await exists('/usr/lib/x86_64-linux-gnu/libc.a')) && !(await exists('/usr/lib/aarch64-linux-gnu/libc.a'))) missing.push('libc.a')
  if (missing.length === 0) return
  const env = {...process.env, DEBIAN_FRONTEND: 'noninteractive'}
  await execa('apt-get', ['update', '-qq'], {env})
  await execa('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...APT_PACKAGES], {env})
}

/**
 * Starts containerd with this node's config and creates the catalogue's pods through CRI.
 * On any failure it tears down what it made and rethrows.
 */
export async function nodeUp(namespaces: Namespaces = DEFAULT_NAMESPACES, specs?: PodSpec[], images: ExtraImage[] = []): Promise<TestNode> {
  await ensurePackages()
  await acquireNode()
  if (await loadState()) {
    // the process that made it is gone (a crash, or `npm run node:up` long finished)
    const left = await teardown()
    if (left.length) {
      await releaseNode()
      throw new Error(`a previous test node left things behind:\n  ${left.join('\n  ')}`)
    }
  }
  if (await exists(CONTAINERD_SOCKET)) {
    await releaseNode()
    throw new Error(`${CONTAINERD_SOCKET} exists: another containerd runs here; the test node will not share it`)
  }

  const state = emptyState()
  for (const root of SHARED_ROOTS) if (!(await exists(root))) state.createdRoots.push(root)
  for (const controller of await cgroupControllers()) {
    for (const qos of QOS_CGROUPS) if (!(await exists(join(controller, qos)))) state.createdRoots.push(join(controller, qos))
  }
  state.ipForwardBefore = (await readFile(IP_FORWARD, 'utf8')).trim()
  state.bridgeExistedBefore = await linkPresent(BRIDGE)
  state.nftTablesBefore = await nftTables()
  await saveState(state)
  const record = () => saveState(state)

  let cri: CriClient | undefined
  try {
    await mkdir(CNI_CONF_DIR, {recursive: true})
    await writeFile(CONTAINERD_CONFIG, containerdConfig())
    await writeFile(join(CNI_CONF_DIR, '10-nodedoc-e2e.conflist'), cniConflist())
    state.containerdPid = await startContainerd()
    await record()
    cri = criClient(`unix://${CONTAINERD_SOCKET}`, CONTAINERD_SOCKET, 10_000)
    await waitReady(cri)
    await buildAndImportImages(CONTAINERD_SOCKET, images)
    for (const spec of specs ?? podCatalogue(namespaces)) {
      const pod = newPodState(spec, podUid())
      state.pods.push(pod)
      await record()
      await createPod(cri, spec, pod, record)
    }
    await waitRunning(cri, state)
    return {state, cri, pods: state.pods, endpoint: `unix://${CONTAINERD_SOCKET}`}
  } catch (error) {
    cri?.close()
    const left = await teardown().catch((e) => [`teardown failed: ${(e as Error).message}`])
    await releaseNode()
    throw new NodeUpError((error as Error).message, structuredClone(state), left)
  }
}

async function waitReady(cri: CriClient): Promise<void> {
  const deadline = Date.now() + 15_000
  for (;;) {
    try {
      await cri.version()
      return
    } catch (error) {
      if (Date.now() > deadline) throw error
      await sleep(100)
    }
  }
}

async function waitRunning(cri: CriClient, state: NodeState): Promise<void> {
  const ids = state.pods.flatMap((p) => p.containers.map((c) => c.id!))
  const deadline = Date.now() + 20_000
  for (;;) {
    const statuses = await Promise.all(ids.map((id) => cri.containerStatus(id)))
    const notRunning = statuses.filter((s) => s.status?.state !== 'CONTAINER_RUNNING')
    if (notRunning.length === 0) return
    if (Date.now() > deadline) throw new Error(`containers not running: ${notRunning.map((s) => `${s.status?.metadata?.name} ${s.status?.state} ${s.status?.reason}`).join(', ')}`)
    await sleep(100)
  }
}

/** Mount points under a prefix, deepest first. */
async function mountsUnder(prefixes: string[]): Promise<string[]> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8')
  const points = mountinfo.split('\n').filter(Boolean).map((line) => line.split(' ')[4].replace(/\\040/g, ' '))
  return points.filter((p) => prefixes.some((prefix) => p === prefix || p.startsWith(prefix + '/'))).sort((a, b) => b.length - a.length)
}

async function unmount(point: string): Promise<void> {
  const result = await execa('umount', [point], {reject: false})
  if (result.exitCode !== 0) await execa('umount', ['-l', point], {reject: false})
}

/** Removes a cgroup dir and every child below it (cgroupfs: rmdir, deepest first). */
async function removeCgroupTree(dir: string): Promise<void> {
  const entries = await readdir(dir, {withFileTypes: true}).catch(() => undefined)
  if (!entries) return
  for (const e of entries) if (e.isDirectory()) await removeCgroupTree(join(dir, e.name))
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      await rmdir(dir)
      return
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOENT') return
      // EBUSY: a process is still leaving
      await sleep(50)
    }
  }
}

/** SIGKILL every process in a cgroup tree (cgroup v1 cgroup.procs). */
async function killCgroupTree(dir: string): Promise<void> {
  const entries = await readdir(dir, {withFileTypes: true}).catch(() => undefined)
  if (!entries) return
  for (const e of entries) if (e.isDirectory()) await killCgroupTree(join(dir, e.name))
  const procs = await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '')
  for (const pid of procs.split('\n').filter(Boolean).map(Number)) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // gone already
    }
  }
}

/** Shim processes that serve one of these sandboxes. */
async function shimsFor(sandboxIds: string[]): Promise<number[]> {
  if (sandboxIds.length === 0) return []
  const pids: number[] = []
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')
    const argv = cmdline.split('\0')
    if (!argv[0]?.includes('containerd-shim')) continue
    const id = argv[argv.indexOf('-id') + 1]
    if (argv.includes('-id') && sandboxIds.includes(id)) pids.push(Number(entry))
  }
  return pids
}

/** Stops and removes every container and sandbox our containerd knows (it is ours alone). */
async function removeThroughCri(cri: CriClient): Promise<void> {
  for (const container of await cri.listContainers()) {
    await cri.stopContainer(container.id, 0).catch(() => undefined)
    await cri.removeContainer(container.id).catch(() => undefined)
  }
  for (const sandbox of await cri.listPodSandbox()) {
    await cri.stopPodSandbox(sandbox.id).catch(() => undefined)
    await cri.removePodSandbox(sandbox.id).catch(() => undefined)
  }
}

/**
 * One test node per machine (containerd's default socket is one): the lock file holds the PID
 * of the process using it. Others wait for it (tests of other areas use this node too); a lock
 * whose process is gone is stale and taken over.
 */
async function acquireNode(waitMs = 100_000): Promise<void> {
  const deadline = Date.now() + waitMs
  for (;;) {
    try {
      await writeFile(NODE_LOCK, `${process.pid}\n`, {flag: 'wx'})
      return
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    const owner = await lockOwner()
    if (owner === process.pid) return
    if (owner === null || !alive(owner)) {
      await rm(NODE_LOCK, {force: true})
      continue
    }
    if (Date.now() > deadline) throw new Error(`the test node is in use by PID ${owner} (${NODE_LOCK}); waited ${waitMs / 1000} s`)
    await sleep(500)
  }
}

async function lockOwner(): Promise<number | null> {
  const text = await readFile(NODE_LOCK, 'utf8').catch(() => '')
  const pid = Number.parseInt(text, 10)
  return Number.isInteger(pid) && pid > 0 ? pid : null
}

async function releaseNode(): Promise<void> {
  const owner = await lockOwner()
  if (owner === process.pid || owner === null || !alive(owner)) await rm(NODE_LOCK, {force: true})
}

/**
 * Removes everything the recorded state says this node made, then reports whatever is still
 * there (an empty list means clean). Safe to run twice, and after a crash: a stopped
 * containerd with sandboxes on record is started once more so CRI can remove them. Refuses
 * while another live process uses the node.
 */
export async function nodeDown(): Promise<string[]> {
  const owner = await lockOwner()
  if (owner !== null && owner !== process.pid && alive(owner)) throw new Error(`the test node is in use by PID ${owner}; not taking it down`)
  try {
    return await teardown()
  } finally {
    await releaseNode()
  }
}

async function teardown(): Promise<string[]> {
  const state = await loadState()
  if (!state) return []
  const problems: string[] = []
  const sandboxIds = state.pods.map((p) => p.sandboxId).filter((id): id is string => !!id)

  let pid = state.containerdPid
  if ((!pid || !(await isContainerd(pid))) && sandboxIds.length && (await exists(CONTAINERD_ROOT))) {
    // our containerd died: a socket it left is stale; start it again so CRI removes its pods
    await rm(CONTAINERD_SOCKET, {force: true})
    await rm(`${CONTAINERD_SOCKET}.ttrpc`, {force: true})
    await mkdir(CNI_CONF_DIR, {recursive: true})
    await writeFile(CONTAINERD_CONFIG, containerdConfig())
    await writeFile(join(CNI_CONF_DIR, '10-nodedoc-e2e.conflist'), cniConflist())
    pid = await startContainerd().catch((error) => {
      problems.push(`restarting containerd for cleanup: ${(error as Error).message}`)
      return null
    })
    state.containerdPid = pid
    await saveState(state)
  }
  if (pid && (await isContainerd(pid))) {
    let cri = criClient(`unix://${CONTAINERD_SOCKET}`, CONTAINERD_SOCKET, 10_000)
    try {
      // a containerd restarted after a crash first waits out its dead shims before it listens;
      // a fresh client each try, so grpc's reconnect backoff does not stretch the wait
      const deadline = Date.now() + 60_000
      for (;;) {
        try {
          await cri.version()
          break
        } catch (error) {
          if (Date.now() > deadline || !(await isContainerd(pid))) throw error
          cri.close()
          await sleep(250)
          cri = criClient(`unix://${CONTAINERD_SOCKET}`, CONTAINERD_SOCKET, 10_000)
        }
      }
      await removeThroughCri(cri)
    } catch (error) {
      problems.push(`CRI cleanup: ${(error as Error).message}`)
    } finally {
      cri.close()
    }
    await stopContainerd(pid)
  }
  // last resort: whatever still runs in our pods' cgroups (the UIDs are ours alone)
  for (const pod of state.pods) await killCgroupTree(join(CGROUP_ROOT, 'memory', pod.cgroupParent))
  for (const shim of await shimsFor(sandboxIds)) {
    try {
      process.kill(shim, 'SIGKILL')
    } catch {
      // already gone
    }
  }

  const ownedTrees = OWNED_TREES.filter((t) => state.createdRoots.includes(t))
  for (const point of await mountsUnder([...state.pods.map((p) => p.kubeletDir), ...ownedTrees])) await unmount(point)
  for (const pod of state.pods) {
    if (pod.netnsPath && (await exists(pod.netnsPath))) {
      await unmount(pod.netnsPath)
      await rm(pod.netnsPath, {force: true})
    }
    for (const link of pod.logLinks) await rm(link, {force: true})
    await rm(pod.logDir, {recursive: true, force: true})
    await rm(pod.kubeletDir, {recursive: true, force: true})
    for (const controller of await cgroupControllers()) await removeCgroupTree(join(controller, pod.cgroupParent))
  }
  // QoS parents and shared roots this node made: only when nobody else uses them now
  const roots = [...state.createdRoots].sort((a, b) => b.length - a.length)
  for (const root of roots) {
    if (ownedTrees.includes(root)) await rm(root, {recursive: true, force: true})
    else if (root.startsWith(CGROUP_ROOT)) await rmdir(root).catch(() => undefined)
  }
  await removeCniState(state)
  for (const root of roots) if (!root.startsWith(CGROUP_ROOT) && !ownedTrees.includes(root)) await rmdir(root).catch(() => undefined)

  if (!state.bridgeExistedBefore && (await linkPresent(BRIDGE))) await execa('ip', ['link', 'delete', BRIDGE], {reject: false})
  if (state.ipForwardBefore !== null) await writeFile(IP_FORWARD, state.ipForwardBefore).catch(() => undefined)
  for (const table of await nftTables()) {
    if (state.nftTablesBefore.includes(table)) continue
    // a table the CNI plugins left behind (iptables-nft makes `ip nat` and `ip filter` on first use)
    if (await emptyNftTable(table)) await execa('nft', ['delete', ...table.split(' ')], {reject: false})
  }
  await rm(NODE_DIR, {recursive: true, force: true})
  // other tests share these roots: one that emptied while we worked is removed now
  for (const root of roots) if (!ownedTrees.includes(root)) await rmdir(root).catch(() => undefined)
  return [...problems, ...(await leftovers(state))]
}

/** CNI's result cache (/var/lib/cni/results) entries for this node's network. */
async function removeCniState(state: NodeState): Promise<void> {
  const results = join(CNI_STATE_DIR, 'results')
  for (const name of (await readdir(results).catch(() => [])) as string[]) {
    if (ownCniCacheEntry(name, state)) await rm(join(results, name), {force: true})
  }
  if (state.createdRoots.includes(CNI_STATE_DIR)) {
    for (const sub of ['results', 'networks']) await rmdir(join(CNI_STATE_DIR, sub)).catch(() => undefined)
  }
}

/** libcni's cache names entries <network>-<sandbox id>-<ifname>; containerd adds a cni-loopback network. */
function ownCniCacheEntry(name: string, state: NodeState): boolean {
  if (name.startsWith(`${NETWORK_NAME}-`)) return true
  return state.pods.some((p) => p.sandboxId && name.startsWith(`cni-loopback-${p.sandboxId}-`))
}

async function emptyNftTable(table: string): Promise<boolean> {
  const result = await execa('nft', ['list', ...table.split(' ')], {reject: false})
  if (result.exitCode !== 0) return false
  // chains with no rules: only "table", "chain", "type ... hook" and braces
  return String(result.stdout).split('\n').every((l) => /^\s*(table .*\{|chain .*\{|type .*|\}|)\s*$/.test(l))
}

/** What the node made that is still there. */
export async function leftovers(state: NodeState): Promise<string[]> {
  const left: string[] = []
  if (state.containerdPid && alive(state.containerdPid) && (await isContainerd(state.containerdPid))) left.push(`containerd PID ${state.containerdPid}`)
  const sandboxIds = state.pods.map((p) => p.sandboxId).filter((id): id is string => !!id)
  for (const shim of await shimsFor(sandboxIds)) left.push(`shim PID ${shim}`)
  const controllers = await cgroupControllers()
  for (const pod of state.pods) {
    for (const controller of controllers) if (await exists(join(controller, pod.cgroupParent))) left.push(`cgroup ${join(controller, pod.cgroupParent)}`)
    if (pod.netnsPath && (await exists(pod.netnsPath))) left.push(`netns ${pod.netnsPath}`)
    for (const path of [pod.kubeletDir, pod.logDir, ...pod.logLinks]) if (await linkExists(path)) left.push(path)
  }
  for (const root of state.createdRoots) {
    if (!(await exists(root))) continue
    const entries = await readdir(root).catch(() => ['?'])
    // a shared root somebody else filled since is theirs now; an empty kubepods cgroup is ours
    // to remove (an empty /var/log/pods or /var/lib/kubelet harms nobody and may be in use)
    const cgroupEmpty = root.startsWith(CGROUP_ROOT) && !entries.some((e) => !e.includes('.') && e !== 'tasks')
    if (OWNED_TREES.includes(root) || cgroupEmpty) left.push(root)
  }
  const ownedTrees = OWNED_TREES.filter((t) => state.createdRoots.includes(t))
  for (const point of await mountsUnder([...state.pods.map((p) => p.kubeletDir), ...ownedTrees])) left.push(`mount ${point}`)
  if (!state.bridgeExistedBefore && (await linkPresent(BRIDGE))) left.push(`link ${BRIDGE}`)
  const ipForward = (await readFile(IP_FORWARD, 'utf8')).trim()
  if (state.ipForwardBefore !== null && ipForward !== state.ipForwardBefore) left.push(`ip_forward=${ipForward} (was ${state.ipForwardBefore})`)
  const results = (await readdir(join(CNI_STATE_DIR, 'results')).catch(() => [])) as string[]
  for (const name of results) if (ownCniCacheEntry(name, state)) left.push(join(CNI_STATE_DIR, 'results', name))
  if (await exists(NODE_DIR)) left.push(NODE_DIR)
  return left
}
