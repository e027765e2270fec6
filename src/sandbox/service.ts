// `nodedoc sandbox` use cases: create, list, exec, remove. Facts about the machine are read
// through a Host (./facts.ts); every change to it is made by src/write; this module decides.

import {createHash, randomBytes, randomUUID} from 'node:crypto'
import {dirname, resolve} from 'node:path'
import {NodedocError} from '../errors.js'
import type {Host} from '../host/host.js'
import {LiveHost} from '../host/live.js'
import {rootReader} from '../host/root-reader.js'
import {execGated} from '../write/exec.js'
import type {Op, ProcessMark, RootfsSource} from '../write/ops.js'
import {isAlive, readStartTime} from '../write/processes.js'
import {realProgramPath, which} from '../write/programs.js'
import {busyboxApplets, hostRootfsFiles, indexedBusyboxFacts, removeLayers} from '../write/rootfs.js'
import {LiveSandboxOps} from '../write/sandbox-ops.js'
import {removeDir, removeIfEmpty} from '../write/state-dir.js'
import {SandboxAborted, SandboxStepError, rollback, runPlan} from './executor.js'
import {type CgroupFacts, V1_CONTROLLERS, V2_CONTROLLERS, cgroupFacts, containerExit, listStates, names, nodeMemoryBytes, pathKind, readUserFile} from './facts.js'
import {containerCgroupPath} from './kubelet.js'
import {type PodManifest, parsePodManifest} from './manifest.js'
import {pickPodAddress} from './ipam.js'
import {
  type Isolation, type Plan, type SandboxConfig, type Step,
  containerEnv, gateScript, imageMountPoints, lowerDir, planSandbox, setprivArgs,
} from './plan.js'
import {type ShownPhase, STATE_ROOT, STATE_VERSION, type SandboxState} from './state.js'

export class SandboxError extends NodedocError {}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** The host end of a pod's veth: "vethnd" and 8 hex digits of a hash of the pod UID. */
export function hostVethName(podUid: string): string {
  return `vethnd${createHash('sha256').update(podUid).digest('hex').slice(0, 8)}`
}

export const DEFAULT_POD_CIDR = '10.250.0.0/24'

/** Sandboxes live on this machine: their facts and state files are read here, at /. */
function liveHost(): Host {
  return new LiveHost('/')
}
export const IPAM_ROOT = '/run/nodedoc/ipam'

export interface CreateOptions {
  manifestPath: string
  name?: string
  isolation: Isolation
  rootfs?: string
  podCidr: string
  cgroupDriver: 'cgroupfs' | 'systemd'
  podPidsLimit: number | null
  /** default: a random UUID, as the API server would give */
  podUid?: string
  stateRoot?: string
  failStep?: number
  holdStep?: number
  dryRun?: boolean
  onStep?: (step: Step, number: number, op: Op) => void
  onStepDone?: (step: Step, number: number) => void
  onWarning?: (message: string) => void
  aborted?: () => boolean
  /**
   * The last part of the create, once every step is done (the command's output): when it fails,
   * or the create is interrupted before it has ended, everything made is removed again.
   */
  finish?: (created: Created) => Promise<void>
}

/** The tools a sandbox with this isolation runs. */
export function requiredTools(isolation: Isolation, network: boolean): string[] {
  const base = ['sh', 'sleep', 'chroot', 'mount', 'umount']
  if (isolation === 'chroot') return ['sh', 'chroot']
  const tools = [...base, 'unshare', 'nsenter', 'cp', 'hostname']
  if (network) tools.push('ip')
  if (isolation === 'full') tools.push('setpriv', 'pivot_root', 'rmdir')
  return tools
}

export async function readManifest(path: string, host: Host = liveHost()): Promise<PodManifest> {
  const text = await readUserFile(host, path)
  if (text === undefined) throw new SandboxError(`${path}: cannot read the manifest`)
  return parsePodManifest(text, path)
}

export interface Created {
  state: SandboxState
  plan: Plan
}

export class LeaseTaken extends SandboxError {}

/** Creates a sandbox; when another create took the same IP a moment earlier, tries the next one. */
export async function createSandbox(opts: CreateOptions): Promise<Created> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await createOnce(opts)
    } catch (error) {
      if (!(error instanceof LeaseTaken) || attempt >= 5) {
        await removeSharedRoots(opts.stateRoot ?? STATE_ROOT)
        throw error
      }
    }
  }
}

/** Where the shared image layers live: /run/nodedoc/layers beside /run/nodedoc/sandboxes. */
export function layersRoot(stateRoot: string): string {
  return `${dirname(stateRoot)}/layers`
}

/**
 * The folders sandboxes share go with the last sandbox, innermost first: the state root, the
 * layers, the leases and their parents (/run/nodedoc; for another state root, its own parent too,
 * as the leases stay the machine's). Each goes only when empty, so a folder holding anything
 * else (a probe's journal, another create's first file) stays; a create racing this makes the
 * folders it needs again.
 */
export async function removeSharedRoots(stateRoot = STATE_ROOT): Promise<void> {
  await removeIfEmpty([stateRoot])
  await removeLayers(layersRoot(stateRoot), stateRoot)
  await removeIfEmpty([...new Set([IPAM_ROOT, dirname(IPAM_ROOT), dirname(stateRoot)])])
}

/** What preflight found: the manifest, the name, where the state goes, the machine's cgroups. */
interface Preflight {
  manifest: PodManifest
  name: string
  dir: string
  network: boolean
  cgroups: CgroupFacts
  /** the controllers the plan uses: v1 mount dirs, or the unified tree ('') on v2 */
  controllers: string[]
}

/** Everything that can be refused before anything is made: name, root, a clash, tools, cgroups, --uid. */
async function preflight(host: Host, opts: CreateOptions): Promise<Preflight> {
  const manifest = await readManifest(opts.manifestPath, host)
  const name = opts.name ?? manifest.name
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.length > 63) throw new SandboxError(`--name ${name}: not a valid pod name (lower-case letters, digits and '-')`)
  const dir = `${opts.stateRoot ?? STATE_ROOT}/${name}`
  if (!opts.dryRun && process.getuid?.() !== 0) throw new SandboxError('sandbox create needs root (namespaces, mounts, cgroups, veths)')
  const network = opts.isolation !== 'chroot' && !manifest.hostNetwork
  if (opts.podUid !== undefined && !UUID.test(opts.podUid)) throw new SandboxError(`--uid ${opts.podUid}: not a UUID (8-4-4-4-12 hex digits)`)
  const [clash, uidOwner, tools, cgroups] = await Promise.all([
    opts.dryRun ? undefined : pathKind(host, dir),
    opts.dryRun || opts.podUid === undefined ? undefined : podUidOwner(host, opts.podUid),
    Promise.all(requiredTools(opts.isolation, network).map(async (t) => [t, await which(t)] as const)),
    cgroupFacts(host),
  ])
  if (clash) throw new SandboxError(`sandbox ${name} already exists (remove it with: nodedoc sandbox rm ${name})`)
  if (uidOwner) throw new SandboxError(`--uid ${opts.podUid}: a pod on this node has that UID already (${uidOwner}); a sandbox removes what carries its UID, so it takes a UID of its own`)
  const missing = tools.filter(([, path]) => !path).map(([tool]) => tool)
  if (missing.length) throw new SandboxError(`missing tools: ${missing.join(', ')} (Debian: util-linux, iproute2, coreutils, hostname)`)
  const wanted = cgroups.version === 1 ? V1_CONTROLLERS : V2_CONTROLLERS
  const absent = wanted.filter((c) => !cgroups.available.includes(c))
  if (absent.length) throw new SandboxError(`cgroup controllers missing: ${absent.join(', ')} (cgroup v${cgroups.version} at ${cgroups.mountRoot})`)
  return {manifest, name, dir, network, cgroups, controllers: cgroups.version === 1 ? wanted : ['']}
}

/**
 * What on this node already carries the pod UID (the kubelet's or another sandbox's pod dir,
 * log dir), or undefined. A sandbox's rollback and rm remove its pod dir, log dir and pod cgroup
 * whole and kill the processes marked with its UID: a reused UID would take a live pod's.
 */
async function podUidOwner(host: Host, uid: string): Promise<string | undefined> {
  const podDir = `/var/lib/kubelet/pods/${uid}`
  const [kind, logDirs] = await Promise.all([pathKind(host, podDir), names(host, '/var/log/pods')])
  if (kind) return podDir
  const logDir = logDirs.find((n) => n.endsWith(`_${uid}`))
  return logDir && `/var/log/pods/${logDir}`
}

/** The pod's address (the next free lease in --pod-cidr) and its host veth name. */
async function podNetwork(host: Host, podCidr: string, podUid: string): Promise<NonNullable<SandboxConfig['network']>> {
  const leaseDir = `${IPAM_ROOT}/${podCidr.replace('/', '_')}`
  let address
  try {
    address = pickPodAddress(podCidr, await names(host, leaseDir))
  } catch (error) {
    throw new SandboxError((error as Error).message)
  }
  const links = new Set(await names(host, '/sys/class/net'))
  // named from the pod UID (as Calico names cali<hash>): the same pod, the same veth
  let hostVeth = hostVethName(podUid)
  while (links.has(hostVeth)) hostVeth = `vethnd${randomBytes(4).toString('hex')}`
  return {...address, hostVeth, leasePath: `${leaseDir}/${address.podIp}`}
}

/** The plan's input: what preflight found, the choices made, and what the machine says. */
async function sandboxConfig(host: Host, opts: CreateOptions, podUid: string, found: Preflight): Promise<SandboxConfig> {
  const {manifest, name, dir, cgroups} = found
  // independent reads, taken at once
  const [network, rootfs, memory, sleepProgram, gateShell] = await Promise.all([
    found.network ? podNetwork(host, opts.podCidr, podUid) : null,
    chooseRootfs(host, opts, manifest),
    nodeMemoryBytes(host),
    which('sleep'),
    which('sh'),
  ])
  const config: SandboxConfig = {
    manifest,
    name,
    podUid,
    sandboxId: randomBytes(32).toString('hex'),
    containerIds: Object.fromEntries(manifest.containers.map((c) => [c.name, randomBytes(32).toString('hex')])),
    isolation: opts.isolation,
    stateDir: dir,
    cgroup: {version: cgroups.version, driver: opts.cgroupDriver, mountRoot: cgroups.mountRoot, controllers: found.controllers},
    network,
    rootfs,
    nodeMemoryBytes: memory,
    podPidsLimit: opts.podPidsLimit,
    sleepProgram: sleepProgram ?? '/bin/sleep',
    gateShell: gateShell ?? '/bin/sh',
    // the layer is made of a static busybox: the host's own copy can detach the old root
    hostBusybox: rootfs.kind === 'layer' ? await realProgramPath(rootfs.binary) : undefined,
    logRoot: '/var/log',
    kubeletRoot: '/var/lib/kubelet',
  }
  for (const v of manifest.volumes) {
    if (v.source.kind !== 'hostPath') continue
    const kind = await pathKind(host, v.source.path)
    if (!kind) throw new SandboxError(`volume ${v.name}: hostPath ${v.source.path} does not exist`)
    if (kind === 'file') (config.fileVolumes ??= []).push(v.name)
  }
  if (rootfs.kind === 'dir') await checkImageMountPoints(host, rootfs.path, config)
  return config
}

const KIND_NAMES: Record<string, string> = {file: 'a regular file', dir: 'a directory', fifo: 'a FIFO', socket: 'a socket', char: 'a character device', block: 'a block device', unknown: 'of an unknown type'}

/**
 * A --rootfs DIR is the user's image, untrusted: the mount points the create makes in it are
 * reached through /proc/<pid>/root, where an absolute link resolves against the node's own root
 * (etc/hosts -> /etc/shadow would have the node's file truncated, a volume's mount point made on
 * the node). Each component is looked at in the image without following links, parents first,
 * and a link, or an entry of the wrong type, is refused before anything is made. runc resolves
 * such links inside the root instead; a relative one is refused too, for one simple rule.
 */
export async function checkImageMountPoints(host: Host, dir: string, config: Pick<SandboxConfig, 'manifest' | 'isolation' | 'fileVolumes'>): Promise<void> {
  const points = imageMountPoints(config)
  if (!points.length) return
  const image = rootReader(host, resolve(dir))
  for (const {path, kind} of points) {
    // parents come first and were no links: this walk follows none
    const entry = await image.lstat(path)
    if (!entry) continue
    if (entry.type === 'link') throw new SandboxError(`--rootfs ${dir}: ${path} is a symbolic link (to ${entry.linkTarget}); mount points through links are not supported`)
    if (entry.type !== kind) throw new SandboxError(`--rootfs ${dir}: ${path} is ${KIND_NAMES[entry.type]}; its mount point needs ${KIND_NAMES[kind]}`)
  }
}

/** The state file as it is before the first step: what was asked, what the kubelet rules say, and who is making it. */
function initialState(config: SandboxConfig, plan: Plan, creator: ProcessMark): SandboxState {
  const {manifest, network} = config
  return {
    version: STATE_VERSION,
    name: config.name,
    namespace: manifest.namespace,
    podUid: config.podUid,
    sandboxId: config.sandboxId,
    isolation: config.isolation,
    createdAt: new Date().toISOString(),
    phase: 'creating',
    creator,
    manifest,
    qos: plan.info.qos,
    cgroup: {...config.cgroup, podPath: plan.info.podCgroupPath},
    podLimits: plan.info.podLimits,
    lowerDir: lowerDir(config),
    podIp: network?.podIp ?? null,
    hostVeth: network?.hostVeth ?? null,
    containers: plan.info.containers.map((c) => ({name: c.name, id: c.id, argv: c.argv, cgroupPath: c.cgroupPath, logPath: c.logPath, limits: c.limits, oomScoreAdj: c.oomScoreAdj})),
    processes: {},
    steps: [],
    notes: [],
  }
}

/**
 * Runs the plan, then finish; on any failure or Ctrl-C until finish has ended, everything made
 * is gone again before the error says so.
 */
async function execute(plan: Plan, state: SandboxState, stateDir: string, opts: CreateOptions, finish: () => Promise<void>): Promise<void> {
  const ops = new LiveSandboxOps(`${stateDir}/state.json`, state.podUid)
  let stepsDone = false
  try {
    await runPlan(plan, state, ops, {failStep: opts.failStep, holdStep: opts.holdStep, aborted: opts.aborted, onStep: opts.onStep, onStepDone: opts.onStepDone, onWarning: opts.onWarning})
    stepsDone = true
    await finish()
    // what is pending comes in first (a Ctrl-C, an output whose reader went away): the create
    // ends only after it
    await new Promise((resolve) => setImmediate(resolve))
    if (opts.aborted?.()) throw new SandboxAborted('interrupted', null, plan.steps.length, [])
  } catch (error) {
    // runPlan has undone its own failure; anything after it (finish, a Ctrl-C) is undone here
    const rollbackProblems = !stepsDone && error instanceof SandboxStepError ? error.rollbackProblems : await rollback(state, ops)
    await ops.sweep()
    const where = error instanceof SandboxStepError && error.step ? `at step ${error.number} (${error.step.id})` : 'after the last step'
    // a signal sent to the whole process group (SIGHUP, Ctrl-C in a terminal) also ends the
    // step's own program: that step failed because of the interruption, and says so
    if (error instanceof SandboxAborted || opts.aborted?.()) throw new SandboxError(`interrupted ${where}; everything made so far was removed${problems(rollbackProblems)}`, 130)
    if (error instanceof SandboxStepError) {
      const Kind = error.step?.id === 'net.lease' && / is taken$/.test(error.message) ? LeaseTaken : SandboxError
      throw new Kind(`${error.message}; everything made so far was removed${problems(rollbackProblems)}`)
    }
    throw new SandboxError(`${(error as Error).message} (after the last step); everything made so far was removed${problems(rollbackProblems)}`)
  }
}

/** One attempt: preflight, choices, the plan, then (unless --dry-run) the plan run for real. */
async function createOnce(opts: CreateOptions): Promise<Created> {
  const host = liveHost()
  const podUid = opts.podUid ?? randomUUID()
  const config = await sandboxConfig(host, opts, podUid, await preflight(host, opts))
  const plan = planSandbox(config)
  for (const w of plan.warnings) opts.onWarning?.(w)
  const state = initialState(config, plan, {pid: process.pid, startTime: (await readStartTime(process.pid)) ?? -1})
  if (opts.dryRun) {
    for (const [i, step] of plan.steps.entries()) opts.onStep?.(step, i + 1, step.op)
    return {state, plan}
  }
  await execute(plan, state, config.stateDir, opts, async () => opts.finish?.({state, plan}))
  return {state, plan}
}

function problems(list: string[]): string {
  return list.length ? ` (except: ${list.join('; ')})` : ''
}

async function chooseRootfs(host: Host, opts: CreateOptions, manifest: PodManifest): Promise<RootfsSource> {
  const dir = opts.rootfs
  if (dir && dir !== 'host' && dir !== 'busybox') {
    if (!(await pathKind(host, dir))) throw new SandboxError(`--rootfs ${dir}: no such directory`)
    // overlayfs takes its layers as a comma/colon-separated option string
    if (/[,:\s]/.test(dir)) throw new SandboxError(`--rootfs ${dir}: overlayfs cannot take a path with a comma, colon or space`)
    return {kind: 'dir', path: dir.replace(/\/+$/, '') || '/'}
  }
  const busybox = dir === 'host' ? undefined : await which('busybox')
  if (dir === 'busybox' && !busybox) throw new SandboxError('--rootfs busybox: busybox is not installed (Debian: busybox-static)')
  if (busybox) {
    // a static busybox is one file; a dynamic one comes with its libraries like any host binary
    const layers = layersRoot(opts.stateRoot ?? STATE_ROOT)
    const {digest, isStatic, statKey} = await indexedBusyboxFacts(layers, busybox)
    // chroot runs in the layer itself, with every capability: it gets a layer of its own
    if (isStatic && opts.isolation !== 'chroot') return {kind: 'layer', dir: `${layers}/busybox-${digest}`, binary: busybox, digest, statKey}
    if (isStatic) return {kind: 'busybox', binary: busybox, applets: await busyboxApplets(busybox)}
  }
  const programs = new Set(['sh', 'ls', 'ps', 'cat', 'sleep', 'kill', 'id', 'hostname', 'ip'])
  for (const c of manifest.containers) {
    const first = c.command?.[0] ?? c.args?.[0]
    if (first) programs.add(first)
  }
  return {kind: 'host', files: await hostRootfsFiles([...programs])}
}

export interface SandboxSummary {
  name: string
  namespace: string
  podUid: string
  phase: ShownPhase
  isolation: Isolation
  qos: string
  podIp: string | null
  hostVeth: string | null
  createdAt: string
  containers: Array<{name: string; id: string; state: 'running' | 'exited' | 'unknown'; pid: number | null; exitCode: number | null}>
  notes: string[]
  problem?: string
}

export async function listSandboxes(stateRoot = STATE_ROOT, host: Host = liveHost()): Promise<SandboxSummary[]> {
  const out: SandboxSummary[] = []
  for (const entry of await listStates(host, stateRoot)) {
    if (!entry.state) {
      out.push({name: entry.name, namespace: '', podUid: '', phase: 'broken', isolation: 'full', qos: '', podIp: null, hostVeth: null, createdAt: '', containers: [], notes: [], problem: entry.problem})
      continue
    }
    const s = entry.state
    const containers = []
    for (const c of s.containers) {
      const mark = s.processes[`ctr:${c.name}`]
      const alive = await isAlive(mark)
      const exit = alive ? undefined : await containerExit(host, entry.dir, c.name)
      containers.push({name: c.name, id: c.id, state: alive ? 'running' as const : exit ? 'exited' as const : 'unknown' as const, pid: alive ? mark!.pid : null, exitCode: exit?.exitCode ?? null})
    }
    // SIGKILL (or a power cut) mid-create leaves the state as it was: say so, and what to do
    const interrupted = s.phase === 'creating' && s.creator !== undefined && !(await isAlive(s.creator))
    out.push({
      name: s.name, namespace: s.namespace, podUid: s.podUid, phase: interrupted ? 'interrupted' : s.phase, isolation: s.isolation, qos: s.qos,
      podIp: s.podIp, hostVeth: s.hostVeth, createdAt: s.createdAt, containers, notes: s.notes,
      ...(interrupted ? {problem: `its create (pid ${s.creator!.pid}) ended half-way; remove what it made: nodedoc sandbox rm ${s.name}`} : {}),
    })
  }
  return out
}

export async function readSandbox(name: string, stateRoot = STATE_ROOT, host: Host = liveHost()): Promise<SandboxState> {
  const entry = (await listStates(host, stateRoot)).find((e) => e.name === name)
  if (!entry) throw new SandboxError(`no sandbox named ${name} (nodedoc sandbox ls)`)
  if (!entry.state) throw new SandboxError(`sandbox ${name}: ${entry.problem}`)
  return entry.state
}

/** Removes a sandbox, whole or half-made. Returns false when there was nothing to remove. */
export async function removeSandbox(name: string, stateRoot = STATE_ROOT): Promise<{removed: boolean; problems: string[]}> {
  const entry = (await listStates(liveHost(), stateRoot)).find((e) => e.name === name)
  if (!entry) return {removed: false, problems: []}
  if (!entry.state) {
    await removeDir(entry.dir)
    await removeSharedRoots(stateRoot)
    return {removed: true, problems: []}
  }
  const ops = new LiveSandboxOps(`${entry.dir}/state.json`, entry.state.podUid)
  entry.state.phase = 'removing'
  const found = await rollback(entry.state, ops)
  await ops.sweep()
  await removeDir(entry.dir)
  await removeSharedRoots(stateRoot)
  return {removed: true, problems: found}
}

export async function execInSandbox(name: string, container: string | undefined, argv: string[], stateRoot = STATE_ROOT): Promise<number> {
  const s = await readSandbox(name, stateRoot)
  const c = container ? s.containers.find((x) => x.name === container) : s.containers[0]
  if (!c) throw new SandboxError(`sandbox ${name} has no container ${container} (has: ${s.containers.map((x) => x.name).join(', ')})`)
  const mark = s.processes[`ctr:${c.name}`]
  if (!(await isAlive(mark))) throw new SandboxError(`container ${c.name} of sandbox ${name} is not running`)
  const pid = String(mark!.pid)
  const spec = s.manifest.containers.find((x) => x.name === c.name)!
  const env = containerEnv(spec, s.manifest.hostname ?? s.name)
  const gateShell = (await which('sh')) ?? '/bin/sh'
  const gate = [gateShell, '-c', gateScript(env), '/']
  const dirs = s.cgroup.controllers.map((ctl) => `${s.cgroup.mountRoot}/${ctl}/${containerCgroupPath(s.cgroup.driver, s.cgroup.podPath, c.id)}`.replace(/\/+/g, '/'))
  if (s.isolation === 'chroot') {
    return execGated([...gate, 'chroot', s.lowerDir, ...argv], 'self', dirs, env)
  }
  const ns = ['--mount', '--pid', ...(s.manifest.hostNetwork ? [] : ['--net', '--uts']), ...(s.manifest.hostIPC ? [] : ['--ipc'])]
  const privs = s.isolation === 'full' ? setprivArgs({runAsUser: null, runAsGroup: null}) : []
  // nsenter opens --root=/ before entering: the gate and chroot run from the host's root, then
  // chroot into the container's root (/proc/<pid>/root) for the command itself
  const chain = ['nsenter', '--target', pid, ...ns, '--root=/', '--wd=/', '--', ...privs, ...gate, 'chroot', `/proc/${pid}/root`, ...argv]
  return execGated(chain, 'child', dirs, env)
}
