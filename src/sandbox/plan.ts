// The sandbox as data: an ordered list of primitive steps, each with what it does, why a real
// node does the same, and how to undo it. Pure: the executor (src/sandbox/executor.ts) runs the
// steps through src/write/sandbox-ops.ts.
//
// Strings may hold process references filled in while the plan runs: `{pause}` (the sandbox's
// pause process) and `{ctr:NAME}` (container NAME's first process, held at a gate until its
// cgroups, mounts and root are ready).

import type {QosClass} from '../pods/types.js'
import {
  PAUSE_OOM_SCORE_ADJ, type CgroupDriverName, type CgroupLimits, cgroupV1Files, cgroupV2Files, containerCgroupPath, containerLimits,
  oomScoreAdj, podCgroupPath, podLimits, qosCgroupParents, qosClass,
} from './kubelet.js'
import {shellLine} from '../output/shell-line.js'
import type {Op, RootfsSource, Undo} from '../write/ops.js'
import {type ContainerSpec, type PodManifest, containerArgv} from './manifest.js'

export type Isolation = 'chroot' | 'unshare' | 'full'
export const ISOLATIONS: Isolation[] = ['chroot', 'unshare', 'full']

/** containerd's default capability set for a container (CRI default spec). */
export const DEFAULT_CAPABILITIES = [
  'chown', 'dac_override', 'fsetid', 'fowner', 'mknod', 'net_raw', 'setgid', 'setuid', 'setfcap',
  'setpcap', 'net_bind_service', 'sys_chroot', 'kill', 'audit_write',
]

export const V2_SUBTREE = '+cpu +memory +pids'

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

/** Device nodes a container gets (runc's defaults): name, major, minor. */
export const DEVICES: Array<[string, number, number]> = [
  ['null', 1, 3], ['zero', 1, 5], ['full', 1, 7], ['random', 1, 8], ['urandom', 1, 9], ['tty', 5, 0],
]

/**
 * Holds a container's first process until the host side is ready: reads a line from fd 3,
 * closes it, changes to the working directory ($0) and execs the container's argv. End of file
 * instead of a line means whoever held the gate went away: nothing runs.
 */
export const GATE_SCRIPT = 'read -r _ <&3 || exit 125; exec 3<&-; cd "$0" && unset OLDPWD PWD && exec "$@"'

/**
 * The gate for a command whose environment is env: the shell's own PWD and OLDPWD (it exports
 * both, OLDPWD being where it was started) are dropped, as runc's process gets the spec's
 * environment alone; a pod that sets either gets its own value back.
 */
export function gateScript(env: Record<string, string>): string {
  const own = ['OLDPWD', 'PWD'].filter((name) => Object.hasOwn(env, name))
  if (!own.length) return GATE_SCRIPT
  return GATE_SCRIPT.replace(' && exec "$@"', ` && export ${own.map((name) => `${name}=${shellLine([env[name]])}`).join(' ')} && exec "$@"`)
}

export interface CgroupLayout {
  version: 1 | 2
  driver: CgroupDriverName
  /** Where the hierarchies are mounted: /sys/fs/cgroup */
  mountRoot: string
  /** v1: controller mount dirs used ("cpu", "memory", ...); v2: [""] (the unified tree) */
  controllers: string[]
}

export interface NetworkConfig {
  podIp: string
  gateway: string
  prefixLength: number
  cidr: string
  hostVeth: string
  leasePath: string
}

export interface SandboxConfig {
  manifest: PodManifest
  /** Sandbox name; also the pod's name in logs and cgroups. */
  name: string
  podUid: string
  sandboxId: string
  containerIds: Record<string, string>
  isolation: Isolation
  stateDir: string
  cgroup: CgroupLayout
  /** hostPath volumes whose path is a file (bind target must be a file too) */
  fileVolumes?: string[]
  /** null: host network (hostNetwork, or --isolation chroot) */
  network: NetworkConfig | null
  rootfs: RootfsSource
  nodeMemoryBytes: number
  podPidsLimit: number | null
  /** The pause-like process: a `sleep` that accepts "infinity" (coreutils), started as <state>/pause. */
  sleepProgram: string
  gateShell: string
  /**
   * A static busybox on the host, by its real path (no symlink to follow): after pivot_root it is
   * still reachable as /.oldroot/<path>, and being static it needs nothing else from there.
   */
  hostBusybox?: string
  logRoot: string
  kubeletRoot: string
}

export interface Step {
  /** Short stable name, e.g. "net.veth" or "ctr.app.pivot_root". */
  id: string
  /** Why a kubelet/runtime does this. */
  why: string
  op: Op
  undo: Undo | null
  /** A failure only warns (e.g. negative oom_score_adj without CAP_SYS_RESOURCE). */
  soft?: boolean
  /** The steps (ids, earlier in the plan) this one waits for; without it, the step just before it. */
  after?: string[]
}

export interface ContainerPlanInfo {
  name: string
  id: string
  argv: string[]
  cgroupPath: string
  logPath: string
  linkPath: string
  limits: CgroupLimits
  oomScoreAdj: number
}

export interface PlanInfo {
  qos: QosClass
  podCgroupPath: string
  sandboxCgroupPath: string
  podLimits: CgroupLimits
  logDir: string
  containers: ContainerPlanInfo[]
  hostname: string
}

export interface Plan {
  steps: Step[]
  info: PlanInfo
  warnings: string[]
}

const join = (...parts: string[]) => parts.join('/').replace(/\/+/g, '/')

export function podLogDir(logRoot: string, namespace: string, name: string, uid: string): string {
  return join(logRoot, 'pods', `${namespace}_${name}_${uid}`)
}

/** /var/log/containers/<pod>_<ns>_<ctr>-<id>.log, cut at 255 bytes like the kubelet. */
export function containerLogLink(logRoot: string, namespace: string, pod: string, container: string, id: string): string {
  return join(logRoot, 'containers', `${pod}_${namespace}_${container}-${id}.log`.slice(0, 255))
}

export function hostsFile(podIp: string | null, hostname: string): string {
  const lines = [
    '# Kubernetes-managed hosts file (nodedoc sandbox).',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
  ]
  if (podIp) lines.push(`${podIp}\t${hostname}`)
  return lines.join('\n') + '\n'
}

export function resolvConf(namespace: string): string {
  // ClusterFirst's shape, without a nameserver: the sandbox has no cluster DNS and no route out
  return `search ${namespace}.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n`
}

/** The comm the kernel gives a process that executed PATH: its last component, cut to 15 bytes. */
export function commOf(path: string): string {
  return Buffer.from(path.slice(path.lastIndexOf('/') + 1)).subarray(0, 15).toString()
}

/** The argv that starts a container's first process, held at the gate. */
export function containerChain(cfg: SandboxConfig, c: ContainerSpec, rootfsPath: string): {chain: string[]; gated: 'self' | 'child'} {
  const pod = cfg.manifest
  const argv = containerArgv(c)
  const wd = c.workingDir ?? '/'
  const gate = [cfg.gateShell, '-c', gateScript(containerEnv(c, podHostname(cfg))), wd]
  if (cfg.isolation === 'chroot') return {chain: [...gate, 'chroot', rootfsPath, ...argv], gated: 'self'}

  const sharePid = pod.shareProcessNamespace && !pod.hostPID
  const nsFlags = [...(pod.hostNetwork ? [] : ['--net']), ...(pod.hostIPC ? [] : ['--ipc']), ...(pod.hostNetwork ? [] : ['--uts']), ...(sharePid ? ['--pid'] : [])]
  const enter = nsFlags.length ? ['nsenter', '--target', '{pause}', ...nsFlags, '--'] : []
  const ownPid = !sharePid && !pod.hostPID
  const unshare = ['unshare', '--mount', '--propagation', 'private', ...(ownPid ? ['--pid', '--fork', '--kill-child'] : []), '--']
  const privs = cfg.isolation === 'full' ? setprivArgs(c) : []
  const tail = cfg.isolation === 'full' ? argv : ['chroot', rootfsPath, ...argv]
  // the gated process is a child when unshare (own pid ns) or nsenter (joined pid ns) forks
  const gated = ownPid || sharePid ? 'child' : 'self'
  return {chain: [...enter, ...unshare, ...privs, ...gate, ...tail], gated}
}

export function setprivArgs(c: Pick<ContainerSpec, 'runAsUser' | 'runAsGroup'>): string[] {
  const ids = c.runAsUser !== null ? [`--reuid=${c.runAsUser}`, `--regid=${c.runAsGroup ?? c.runAsUser}`, '--clear-groups'] : []
  return ['setpriv', '--no-new-privs', '--inh-caps=-all', `--bounding-set=-all,${DEFAULT_CAPABILITIES.map((c) => '+' + c).join(',')}`, ...ids, '--']
}

export function containerEnv(c: ContainerSpec, hostname: string): Record<string, string> {
  const env: Record<string, string> = {PATH: DEFAULT_PATH, HOSTNAME: hostname}
  for (const {name, value} of c.env) env[name] = value
  return env
}

/**
 * Everything the phases below derive from the config once: names, paths and per-container
 * facts. Pure data; each phase reads it and returns its steps.
 */
interface PlanLayout {
  cfg: SandboxConfig
  pod: PodManifest
  qos: QosClass
  driver: CgroupDriverName
  podCgroup: string
  sandboxCgroup: string
  podLimits: CgroupLimits
  hostname: string
  state: string
  /** the read-only image layer: the --rootfs dir, the shared busybox layer, or <state>/rootfs built by rootfs.build */
  lower: string
  logDir: string
  containers: ContainerPlanInfo[]
  /** volume name -> the host dir (emptyDir under the kubelet pod dir, or hostPath) */
  volumeSources: Map<string, string>
  /** namespaces, pause and mounts: every isolation but chroot */
  withNs: boolean
  full: boolean
}

const PAUSE = '{pause}'

function planLayout(cfg: SandboxConfig): PlanLayout {
  const pod = cfg.manifest
  const qos = qosClass(pod)
  const driver = cfg.cgroup.driver
  const podCgroup = podCgroupPath(driver, qos, cfg.podUid)
  const logDir = podLogDir(cfg.logRoot, pod.namespace, cfg.name, cfg.podUid)
  const containers: ContainerPlanInfo[] = pod.containers.map((c) => {
    const id = cfg.containerIds[c.name]
    return {
      name: c.name,
      id,
      argv: containerArgv(c),
      cgroupPath: containerCgroupPath(driver, podCgroup, id),
      logPath: join(logDir, c.name, '0.log'),
      linkPath: containerLogLink(cfg.logRoot, pod.namespace, cfg.name, c.name, id),
      limits: containerLimits(c),
      oomScoreAdj: oomScoreAdj(qos, c.resources.requests.memoryBytes, cfg.nodeMemoryBytes),
    }
  })
  const volumeSources = new Map<string, string>()
  for (const v of pod.volumes) {
    if (v.source.kind === 'emptyDir') volumeSources.set(v.name, join(kubeletPodDir(cfg), 'volumes', 'kubernetes.io~empty-dir', v.name))
    if (v.source.kind === 'hostPath') volumeSources.set(v.name, v.source.path)
  }
  return {
    cfg, pod, qos, driver, podCgroup, logDir, containers, volumeSources,
    sandboxCgroup: containerCgroupPath(driver, podCgroup, cfg.sandboxId),
    podLimits: podLimits(pod, cfg.podPidsLimit),
    hostname: podHostname(cfg),
    state: cfg.stateDir,
    lower: lowerDir(cfg),
    withNs: cfg.isolation !== 'chroot',
    full: cfg.isolation === 'full',
  }
}

/** The pod's hostname: spec.hostname, else the pod's name. */
function podHostname(cfg: Pick<SandboxConfig, 'manifest' | 'name'>): string {
  return cfg.manifest.hostname ?? cfg.name
}

/** The overlay's lower layer (the chroot dir for --isolation chroot). */
export function lowerDir(cfg: Pick<SandboxConfig, 'rootfs' | 'stateDir'>): string {
  if (cfg.rootfs.kind === 'dir') return cfg.rootfs.path
  return cfg.rootfs.kind === 'layer' ? cfg.rootfs.dir : join(cfg.stateDir, 'rootfs')
}

function kubeletPodDir(cfg: SandboxConfig): string {
  return join(cfg.kubeletRoot, 'pods', cfg.podUid)
}

function cgroupDir(cfg: SandboxConfig, controller: string, path: string): string {
  return join(cfg.cgroup.mountRoot, controller, path)
}

/** The limit files of one cgroup, for the controllers this sandbox uses. */
function limitFiles(cfg: SandboxConfig, limits: CgroupLimits) {
  return (cfg.cgroup.version === 1 ? cgroupV1Files(limits) : cgroupV2Files(limits)).filter((f) => cfg.cgroup.controllers.includes(f.controller))
}

function isolationWarnings(isolation: Isolation): string[] {
  if (isolation === 'chroot') return ['--isolation chroot: no namespaces, no pivot_root, all capabilities: the container sees every host process and can escape its root; for demonstration only']
  if (isolation === 'unshare') return ['--isolation unshare: chroot instead of pivot_root and all root capabilities kept: the old root stays reachable; for demonstration only']
  return []
}

/** The sandbox state dir and the per-pod files the kubelet keeps there. */
function stateSteps({cfg, pod, state, hostname}: PlanLayout): Step[] {
  return [
    {id: 'state.dir', why: 'the sandbox state dir: state.json records every artifact before it is made, so rm and rollback find it all', op: {kind: 'mkdir', path: state, exclusive: true}, undo: {kind: 'removeTree', path: state}},
    {id: 'state.hostname', why: 'kubelet/containerd keep the pod hostname file in the sandbox dir and bind-mount it as /etc/hostname', op: {kind: 'write', path: join(state, 'hostname'), content: hostname + '\n'}, undo: null},
    {id: 'state.hosts', why: 'the kubelet writes a managed /etc/hosts per pod (etc-hosts) with the pod IP', op: {kind: 'write', path: join(state, 'hosts'), content: hostsFile(cfg.network?.podIp ?? null, hostname)}, undo: null},
    {id: 'state.resolv', why: 'resolv.conf from the pod DNS policy, bind-mounted as /etc/resolv.conf', op: {kind: 'write', path: join(state, 'resolv.conf'), content: resolvConf(pod.namespace)}, undo: null},
  ]
}

function rootfsSteps({cfg, lower}: PlanLayout): Step[] {
  if (cfg.rootfs.kind === 'dir') return []
  if (cfg.rootfs.kind === 'layer') {
    return [{id: 'rootfs.layer', why: 'no image pull here: the read-only image layer (busybox-static and its applet links) is built once, named by the sha256 of the binary, and shared by every sandbox as the overlay lowerdir, which no container writes; it goes with the last sandbox', op: {kind: 'rootfs', dir: lower, source: cfg.rootfs}, undo: null}]
  }
  const what = cfg.rootfs.kind === 'busybox' ? `busybox-static and ${cfg.rootfs.applets.length} applet links` : `${cfg.rootfs.files.length} host files (binaries and the libraries ldd lists)`
  return [{id: 'rootfs.build', why: `no image pull here: the read-only image layer is built locally from ${what}`, op: {kind: 'rootfs', dir: lower, source: cfg.rootfs}, undo: null}]
}

function leaseSteps({cfg}: PlanLayout): Step[] {
  if (!cfg.network) return []
  const leaseDir = cfg.network.leasePath.replace(/\/[^/]+$/, '')
  return [
    {id: 'net.ipam-dir', why: 'the lease dir of this range (shared by the sandboxes using it)', op: {kind: 'mkdir', path: leaseDir}, undo: {kind: 'rmdirIfEmpty', path: leaseDir}},
    {id: 'net.lease', why: `IPAM: reserve ${cfg.network.podIp} in ${cfg.network.cidr} (host-local keeps one file per IP, as here)`, op: {kind: 'lease', path: cfg.network.leasePath, content: cfg.name + '\n'}, undo: {kind: 'unlink', path: cfg.network.leasePath}},
  ]
}

/** Where the kubelet tells the runtime to write, and the links log shippers read. */
function logSteps({cfg, logDir, containers}: PlanLayout): Step[] {
  return [
    {id: 'logs.pods', why: 'the kubelet log root', op: {kind: 'mkdir', path: join(cfg.logRoot, 'pods')}, undo: {kind: 'rmdirIfEmpty', path: join(cfg.logRoot, 'pods')}},
    {id: 'logs.pod', why: 'per-pod log dir /var/log/pods/<ns>_<name>_<uid>', op: {kind: 'mkdir', path: logDir, exclusive: true}, undo: {kind: 'removeTree', path: logDir}},
    ...containers.map((c): Step => ({id: `logs.${c.name}.dir`, why: 'one dir per container; files are <restartCount>.log', op: {kind: 'mkdir', path: join(logDir, c.name)}, undo: null})),
    {id: 'logs.containers', why: 'the /var/log/containers link dir', op: {kind: 'mkdir', path: join(cfg.logRoot, 'containers')}, undo: {kind: 'rmdirIfEmpty', path: join(cfg.logRoot, 'containers')}},
    ...containers.map((c): Step => ({id: `logs.${c.name}.link`, why: '/var/log/containers/<pod>_<ns>_<ctr>-<id>.log points at the current log', op: {kind: 'symlink', target: c.logPath, path: c.linkPath}, undo: {kind: 'unlink', path: c.linkPath}})),
  ]
}

/** emptyDir volumes live in the kubelet's pod dir. */
function emptyDirSteps({cfg, pod, volumeSources}: PlanLayout): Step[] {
  const emptyDirs = pod.volumes.filter((v) => v.source.kind === 'emptyDir')
  if (!emptyDirs.length) return []
  const podDir = kubeletPodDir(cfg)
  return [
    {id: 'kubelet.root', why: 'the kubelet root dir', op: {kind: 'mkdir', path: cfg.kubeletRoot}, undo: {kind: 'rmdirIfEmpty', path: cfg.kubeletRoot}},
    {id: 'kubelet.pods', why: 'the kubelet pods dir', op: {kind: 'mkdir', path: join(cfg.kubeletRoot, 'pods')}, undo: {kind: 'rmdirIfEmpty', path: join(cfg.kubeletRoot, 'pods')}},
    {id: 'kubelet.pod', why: 'the pod dir /var/lib/kubelet/pods/<uid>', op: {kind: 'mkdir', path: podDir, exclusive: true}, undo: {kind: 'removeTree', path: podDir}},
    ...emptyDirs.map((v): Step => ({id: `volume.${v.name}`, why: 'emptyDir: a plain dir under the pod dir, bind-mounted into each container that mounts it', op: {kind: 'mkdir', path: volumeSources.get(v.name)!}, undo: null})),
  ]
}

/** QoS parents (shared with other pods), the pod cgroup and its limits. */
function podCgroupSteps({cfg, qos, driver, podCgroup, podLimits}: PlanLayout): Step[] {
  const steps: Step[] = []
  for (const controller of cfg.cgroup.controllers) {
    const label = controller || 'unified'
    for (const parent of qosCgroupParents(driver, qos)) {
      steps.push({id: `cgroup.${label}.${parent.split('/').pop()}`, why: `the kubelet's QoS-level cgroup (${qos})`, op: {kind: 'mkdir', path: cgroupDir(cfg, controller, parent)}, undo: {kind: 'cgroupRmdirIfEmpty', path: cgroupDir(cfg, controller, parent)}})
    }
    steps.push({id: `cgroup.${label}.pod`, why: 'the pod cgroup pod<uid>: pod-level limits from the summed container resources', op: {kind: 'mkdir', path: cgroupDir(cfg, controller, podCgroup), exclusive: true}, undo: {kind: 'cgroupTree', path: cgroupDir(cfg, controller, podCgroup)}})
  }
  if (cfg.cgroup.version === 2) {
    // v2 hands controllers down level by level: each parent enables them for its children
    for (const parent of ['/', ...qosCgroupParents(driver, qos), podCgroup]) {
      steps.push({id: `cgroup.subtree.${parent === '/' ? 'root' : parent.split('/').pop()}`, why: 'cgroup v2: enable cpu, memory and pids for the children of this level', op: {kind: 'write', path: join(cgroupDir(cfg, '', parent), 'cgroup.subtree_control'), content: V2_SUBTREE}, undo: null})
    }
  }
  for (const f of limitFiles(cfg, podLimits)) {
    steps.push({id: `cgroup.pod.${f.file}`, why: `pod-level ${f.file} by the kubelet's formula`, op: {kind: 'write', path: join(cgroupDir(cfg, f.controller, podCgroup), f.file), content: f.value}, undo: null})
  }
  return steps
}

/** The sandbox (pause) gets its own cgroup under the pod, like a container. */
function sandboxCgroupSteps({cfg, sandboxCgroup, withNs}: PlanLayout): Step[] {
  if (!withNs) return []
  return cfg.cgroup.controllers.map((controller) => ({id: `cgroup.${controller || 'unified'}.sandbox`, why: 'the sandbox (pause) gets its own cgroup under the pod, like a container', op: {kind: 'mkdir', path: cgroupDir(cfg, controller, sandboxCgroup)}, undo: null}))
}

const SHM_OPTIONS = 'nosuid,nodev,noexec,mode=1777,size=65536k'

/** The pod's shm tmpfs (mounted by the pause's shell), then the pause process holding the namespaces. */
function pauseSteps({cfg, pod, state, hostname, withNs}: PlanLayout): Step[] {
  if (!withNs) return []
  const sharePid = pod.shareProcessNamespace && !pod.hostPID
  const pauseNs = [...(pod.hostNetwork ? [] : ['--net', '--uts']), ...(pod.hostIPC ? [] : ['--ipc']), ...(sharePid ? ['--pid', '--fork', '--kill-child'] : [])]
  const pauseLink = join(state, 'pause')
  const shm = join(state, 'shm')
  // /dev/shm for the pod: containerd mounts one tmpfs per sandbox and binds it into each
  // container. The pause's own shell mounts it and execs the pause (one program start from node
  // fewer); the umount is written down with the dir, before the mount can happen, and undoes a
  // mount whose pause then failed. It is in the host's mount table before any container's
  // unshare --mount copies it, as those wait for the pause.
  // In a UTS namespace of its own, the same shell writes the pod's hostname (the writer's UTS
  // namespace's /proc/sys/kernel/hostname): set before anything joins the pod, with no program
  // start of its own. mount's stderr is the CLI's (a failure is named with mount's own words);
  // the pause's is /dev/null.
  const ownUts = !pod.hostNetwork
  const script = `mount -t tmpfs -o ${SHM_OPTIONS} shm "$1" && ${ownUts ? 'echo "$3" > /proc/sys/kernel/hostname && ' : ''}exec "$2" infinity 2>/dev/null`
  return [
    {id: 'shm.dir', why: 'the sandbox shm dir: one tmpfs per pod, shared by its containers as /dev/shm (they share the IPC namespace too), mounted by the pause\'s shell', op: {kind: 'mkdir', path: shm}, undo: {kind: 'umount', path: shm}},
    {id: 'pause.binary', why: 'the pause program: coreutils sleep linked as "pause", so it reads as the pod sandbox in ps (comm and argv[0])', op: {kind: 'symlink', target: cfg.sleepProgram, path: pauseLink}, undo: null},
    {
      id: 'pause.start',
      why: `the pod's shm tmpfs mounted on the host${ownUts ? ", the pod's hostname in its own UTS namespace" : ''}, then the pause process, which holds the pod namespaces (net, ipc, uts; pid with shareProcessNamespace) for as long as the pod lives`,
      op: {kind: 'spawnPause', argv: ['unshare', ...pauseNs, '--', 'sh', '-c', script, 'sh', shm, pauseLink, ...(ownUts ? [hostname] : [])], gated: sharePid ? 'child' : 'self', ready: commOf(pauseLink), before: {program: 'mount', what: `mounting the pod's shm tmpfs on ${shm}`}},
      undo: {kind: 'kill', ref: PAUSE},
    },
  ]
}

/** The pause process in its cgroup, and its OOM score. */
function pauseSettingSteps({cfg, sandboxCgroup, withNs}: PlanLayout): Step[] {
  if (!withNs) return []
  return [
    {id: 'pause.cgroup', why: 'the pause process is charged to the pod like any container', op: {kind: 'joinCgroup', ref: PAUSE, dirs: cfg.cgroup.controllers.map((c) => cgroupDir(cfg, c, sandboxCgroup))}, undo: null},
    {id: 'pause.oom_score_adj', why: `the kubelet gives the pause process ${PAUSE_OOM_SCORE_ADJ} so it is the last thing the OOM killer picks`, op: {kind: 'oomScoreAdj', ref: PAUSE, value: PAUSE_OOM_SCORE_ADJ}, undo: null, soft: true},
  ]
}

/**
 * The pod's network as a ptp CNI plugin makes it: a veth, the pod IP, routes, nothing out (its
 * hostname is the pause's shell's). `files`: the pod side's batch, written beside the pause's
 * start; `run`: both sides in one run.
 */
function networkSteps({cfg, pod, state, withNs}: PlanLayout): {files: Step[]; run: Step[]} {
  const net = cfg.network
  if (!withNs || pod.hostNetwork || !net) return {files: [], run: []}
  const podBatch = join(state, 'pod-net.batch')
  const forwarding = `/proc/sys/net/ipv4/conf/${net.hostVeth}/forwarding`
  // one program started from node for both sides (each start of one blocks node's main thread
  // while it forks and the child execs): a shell runs the host side's `ip -batch` (its lines on
  // stdin), turns forwarding on for the host end only, then enters the pause's network
  // namespace for the pod side's `ip -batch`
  const script = 'ip -batch - && echo 1 > "$1" && exec nsenter --target "$2" --net -- ip -batch "$3"'
  return {
    files: [{id: 'net.pod-batch', why: 'the pod end, as one ip batch: lo and eth0 up, the pod IP without its subnet route, the gateway on the link, other pods in the range via the gateway', op: {kind: 'write', path: podBatch, content: [
      'link set lo up',
      `address add ${net.podIp}/${net.prefixLength} dev eth0 noprefixroute`,
      'link set eth0 up',
      `route add ${net.gateway}/32 dev eth0 scope link`,
      `route add ${net.cidr} via ${net.gateway} dev eth0 src ${net.podIp}`,
    ].join('\n') + '\n'}, undo: null}],
    run: [{
      id: 'net.veth',
      why: `a veth pair: one end becomes the pod eth0 inside the pause netns, the other stays on the host (CNI ptp/kindnet); the host end gets the pod gateway /32 (as the ptp plugin puts on every host veth), goes up, routes to the pod "<ip> dev vethX scope host" as kindnet writes it, and forwards packets arriving from it (per-interface: the host-wide ip_forward stays as it is); then the pod end (the batch above); no default route, so nothing leaves the node`,
      op: {kind: 'run', argv: ['sh', '-c', script, 'sh', forwarding, PAUSE, podBatch], stdin: [
        `link add ${net.hostVeth} type veth peer name eth0 netns ${PAUSE}`,
        // replace, not add: the same gateway /32 goes on every host veth, and a retry must not trip
        `address replace ${net.gateway}/32 dev ${net.hostVeth}`,
        `link set ${net.hostVeth} up`,
        `route replace ${net.podIp}/32 dev ${net.hostVeth} scope host`,
      ].join('\n') + '\n'},
      undo: {kind: 'run', argv: ['ip', 'link', 'del', net.hostVeth]},
    }],
  }
}

/** One container's steps: what the host prepares for it (its dirs and fstab files), and its start. */
interface ContainerSteps {
  files: Step[]
  start: Step[]
}

/** What a container's start waits for besides its own steps (step ids). */
interface ContainerNeeds {
  /** its process: the pause (whose namespaces it joins) and its log dir */
  start: string[]
  /** the end of every cgroup lane: its cgroups, their parents and limits */
  cgroups: string[]
  /** the image layer */
  image: string[]
  /** what its binds mount: the pod's files and volumes, and the shm (mounted before the pause runs) */
  binds: string[]
}

/** The container cgroup <pod>/<containerID> and its limits. */
function containerCgroupSteps({cfg}: PlanLayout, c: ContainerSpec, info: ContainerPlanInfo): Step[] {
  return [
    ...cfg.cgroup.controllers.map((controller): Step => ({id: `ctr.${c.name}.cgroup.${controller || 'unified'}`, why: 'the container cgroup <pod>/<containerID>', op: {kind: 'mkdir', path: cgroupDir(cfg, controller, info.cgroupPath)}, undo: null})),
    ...limitFiles(cfg, info.limits).map((f): Step => ({id: `ctr.${c.name}.${f.file}`, why: `container ${f.file} by the kubelet's formula`, op: {kind: 'write', path: join(cgroupDir(cfg, f.controller, info.cgroupPath), f.file), content: f.value}, undo: null})),
  ]
}

/**
 * The cgroup steps in lanes: on v1 one per controller hierarchy (each level waits only for its
 * parent in the same hierarchy, and a v1 mkdir can take tens of milliseconds), on v2 the one tree.
 */
function cgroupLanes({cfg}: PlanLayout, steps: Step[]): Step[][] {
  if (cfg.cgroup.version !== 1) return [steps]
  const lanes = cfg.cgroup.controllers.map((controller) => {
    const root = `${join(cfg.cgroup.mountRoot, controller)}/`
    return steps.filter((s) => 'path' in s.op && s.op.path.startsWith(root))
  })
  const placed = new Set(lanes.flat())
  return [...lanes, steps.filter((s) => !placed.has(s))].filter((l) => l.length)
}

/** One container: its bundle dir, its process started at the gate, then its root. */
function containerSteps(layout: PlanLayout, c: ContainerSpec, info: ContainerPlanInfo, needs: ContainerNeeds): ContainerSteps {
  const {cfg, qos, state, hostname, lower, withNs} = layout
  const ref = `{ctr:${c.name}}`
  const dir = join(state, 'containers', c.name)
  const merged = cfg.isolation === 'chroot' ? lower : join(dir, 'rootfs')
  const {chain, gated} = containerChain(cfg, c, merged)
  const shim = join(dir, 'shim')
  const files: Step[] = [
    {id: `ctr.${c.name}.dir`, why: 'the container bundle dir (overlay upper/work and mount point)', op: {kind: 'mkdir', path: dir}, undo: null},
    {id: `ctr.${c.name}.shim`, why: 'the container\'s shim: sh linked as "shim", the container\'s parent that outlives the CLI and says its exit, as containerd-shim is (its name tells its forks from the gate\'s shell)', op: {kind: 'symlink', target: cfg.gateShell, path: shim}, undo: null},
  ]
  const start: Step[] = [
    {
      id: `ctr.${c.name}.start`,
      why: 'start the container process (held at a gate) under its shim, its output to a log writer that writes CRI-format lines, like containerd-shim',
      op: {kind: 'startContainer', container: c.name, chain, env: containerEnv(c, hostname), gated, ready: commOf(cfg.gateShell), logPath: info.logPath, stateDir: dir, shim},
      undo: {kind: 'kill', ref},
      after: [...needs.start, files.at(-1)!.id],
    },
    {id: `ctr.${c.name}.cgroup`, why: 'move the held process into its cgroups before it runs anything', op: {kind: 'joinCgroup', ref, dirs: cfg.cgroup.controllers.map((ctl) => cgroupDir(cfg, ctl, info.cgroupPath))}, undo: null, after: [`ctr.${c.name}.start`, ...needs.cgroups]},
    {id: `ctr.${c.name}.oom_score_adj`, why: `oom_score_adj ${info.oomScoreAdj} for a ${qos} pod (kubelet qos policy)`, op: {kind: 'oomScoreAdj', ref, value: info.oomScoreAdj}, undo: null, soft: true},
  ]
  if (!withNs) return {files, start}
  const root = containerRootSteps(layout, c, ref, dir, merged, needs)
  return {files: [...files, ...root.files], start: [...start, ...root.start]}
}

/** A path inside the image the create makes or mounts on, and what it must be there. */
export interface ImageMountPoint {
  path: string
  kind: 'dir' | 'file'
}

/**
 * Every path inside the image that a container root mounts on, their parents first; none for
 * --isolation chroot, which mounts nothing. Each is made in the container's own upper layer
 * before the overlay is mounted (containerRootSteps), so no link in the image is ever followed
 * to make one; a --rootfs DIR is also checked against these before anything is made
 * (service.ts), so that a link or an entry of the wrong type is refused with a clear line.
 */
export function imageMountPoints(cfg: Pick<SandboxConfig, 'manifest' | 'isolation' | 'fileVolumes'>): ImageMountPoint[] {
  return containerMountPoints(cfg, cfg.manifest.containers)
}

function containerMountPoints(cfg: Pick<SandboxConfig, 'manifest' | 'isolation' | 'fileVolumes'>, containers: ContainerSpec[]): ImageMountPoint[] {
  if (cfg.isolation === 'chroot') return []
  const wanted = new Map<string, 'dir' | 'file'>()
  const add = (path: string, kind: 'dir' | 'file') => {
    const parts = path.split('/').filter((p) => p && p !== '.')
    parts.forEach((_, i) => {
      const at = parts.slice(0, i + 1).join('/')
      const need = i < parts.length - 1 ? 'dir' : kind
      if (wanted.get(at) !== 'dir') wanted.set(at, need)
    })
  }
  add('proc', 'dir')
  if (!cfg.manifest.hostNetwork) add('sys', 'dir')
  add('dev', 'dir')
  for (const f of ['hosts', 'hostname', 'resolv.conf']) add(`etc/${f}`, 'file')
  for (const c of containers) {
    for (const m of c.volumeMounts) add(m.mountPath, cfg.fileVolumes?.includes(m.name) ? 'file' : 'dir')
  }
  if (cfg.isolation === 'full') add('.oldroot', 'dir')
  return [...wanted].map(([path, kind]) => ({path, kind})).sort((a, b) => a.path.split('/').length - b.path.split('/').length)
}

/** One fstab field: blanks, newlines and backslashes as octal escapes, as fstab(5) reads them. */
export function fstabField(text: string): string {
  return text.replace(/[\\ \t\n]/g, (c) => '\\' + c.charCodeAt(0).toString(8).padStart(3, '0'))
}

function fstabLine(source: string, target: string, type: string, options: string): string {
  return `${fstabField(source)} ${fstabField(target)} ${type} ${options} 0 0`
}

/** /dev links a container gets (runc's defaults), as name and target. */
const DEV_LINKS: Array<[string, string]> = [['fd', '/proc/self/fd'], ['stdin', '/proc/self/fd/0'], ['stdout', '/proc/self/fd/1'], ['stderr', '/proc/self/fd/2'], ['ptmx', 'pts/ptmx']]

/**
 * The container's root, made inside its own mount namespace while the process waits at the
 * gate: overlay rootfs, /proc, /sys, a minimal /dev, the pod's files and volumes, then
 * pivot_root away from the host (--isolation full), all in one run of a shell entered into the
 * namespace (a program costs several milliseconds here, a mount inside a running one almost
 * nothing). Every mount point is made beforehand in the container's upper layer, a folder of
 * its own on the host that no image can put a link in: the upper entry hides whatever the image
 * has at that path, so the mounts never follow a link of the image's, even one put there after
 * preflight. /dev's links and folders are copied from a template beside it, with the device nodes.
 */
function containerRootSteps({cfg, pod, state, lower, volumeSources, full}: PlanLayout, c: ContainerSpec, ref: string, dir: string, merged: string, needs: ContainerNeeds): Pick<ContainerSteps, 'files' | 'start'> {
  const upper = join(dir, 'upper')
  const devDir = join(dir, 'dev')
  const at = (p: string) => join(merged, p)
  const prepare: Step[] = [
    {id: `ctr.${c.name}.upper`, why: 'overlay upper dir: the container writable layer', op: {kind: 'mkdir', path: upper}, undo: null},
    {id: `ctr.${c.name}.work`, why: 'overlay work dir', op: {kind: 'mkdir', path: join(dir, 'work')}, undo: null},
    {id: `ctr.${c.name}.rootfs-dir`, why: 'the rootfs mount point', op: {kind: 'mkdir', path: merged}, undo: null},
  ]
  for (const point of containerMountPoints(cfg, [c])) {
    const why = `mount point /${point.path}, made in the writable layer: it hides what the image has there, so no link of the image's is followed`
    prepare.push(point.kind === 'dir'
      // as overlayfs's copy-up would: a folder the image has keeps its mode and owner
      ? {id: `ctr.${c.name}.point.${point.path}`, why, op: {kind: 'mkdir', path: join(upper, point.path), like: join(lower, point.path)}, undo: null}
      : {id: `ctr.${c.name}.point.${point.path}`, why, op: {kind: 'write', path: join(upper, point.path), content: ''}, undo: null})
  }
  const rootMounts = [
    fstabLine('overlay', merged, 'overlay', `lowerdir=${lower},upperdir=${upper},workdir=${join(dir, 'work')}`),
    fstabLine('proc', at('proc'), 'proc', 'nosuid,nodev,noexec'),
    ...(pod.hostNetwork ? [] : [fstabLine('sysfs', at('sys'), 'sysfs', 'ro,nosuid,nodev,noexec')]),
    fstabLine('tmpfs', at('dev'), 'tmpfs', 'nosuid,strictatime,mode=755,size=65536k'),
  ]
  prepare.push({id: `ctr.${c.name}.fstab-root`, why: 'the rootfs (read-only image layer + writable upper), /proc, /sys read-only, a tmpfs /dev, in the order they are mounted', op: {kind: 'write', path: join(dir, 'fstab.root'), content: rootMounts.join('\n') + '\n'}, undo: null})
  const binds = [
    fstabLine('devpts', at('dev/pts'), 'devpts', 'newinstance,ptmxmode=0666,mode=0620,gid=5,nosuid,noexec'),
    fstabLine(join(state, 'shm'), at('dev/shm'), 'none', 'bind'),
    ...['hosts', 'hostname', 'resolv.conf'].map((f) => fstabLine(join(state, f), at(`etc/${f}`), 'none', 'bind')),
    // bind,ro: mount binds, then remounts the bind read-only, as two separate runs did
    ...c.volumeMounts.map((m) => fstabLine(volumeSources.get(m.name)!, at(m.mountPath), 'none', m.readOnly ? 'bind,ro' : 'bind')),
  ]
  const fstabBinds = join(dir, 'fstab.binds')
  prepare.push(
    {id: `ctr.${c.name}.fstab-binds`, why: "a private devpts, the pod's shm as /dev/shm, /etc/hosts, hostname and resolv.conf from the sandbox state dir (as kubelet/containerd bind them), the volumes (readOnly ones remounted read-only)", op: {kind: 'write', path: fstabBinds, content: binds.join('\n') + '\n'}, undo: null},
    {id: `ctr.${c.name}.dev`, why: "the template of the container's /dev: its links and the devpts and shm mount points", op: {kind: 'mkdir', path: devDir}, undo: null},
    ...DEV_LINKS.map(([name, target]): Step => ({id: `ctr.${c.name}.dev.${name}`, why: `/dev/${name} link`, op: {kind: 'symlink', target, path: join(devDir, name)}, undo: null})),
    ...['pts', 'shm'].map((name): Step => ({id: `ctr.${c.name}.dev.${name}`, why: `mount point /dev/${name}`, op: {kind: 'mkdir', path: join(devDir, name)}, undo: null})),
  )
  const nodes = DEVICES.map(([d]) => `/dev/${d}`)
  const busybox = full ? cfg.hostBusybox : undefined
  const script = [
    'mount --all --fstab "$1"',
    `cp -a ${nodes.join(' ')} "$3/." "$4/dev/"`,
    'mount --all --fstab "$2"',
    ...(full ? ['pivot_root "$4" "$4/.oldroot"'] : []),
    ...(busybox ? ['exec "$5" umount -l /.oldroot'] : []),
  ].join(' && ')
  const why = [
    'mounted only inside the container mount namespace, in that order: the rootfs, /proc from inside its PID namespace (ps sees only the pod), /sys from inside the pod network namespace, a tmpfs /dev',
    `then the device nodes ${nodes.join(', ')} (runc's default set, copied as nodes from the host, whose /dev is still in view) and /dev's links`,
    'then the binds',
    ...(full ? ['then pivot_root, not chroot: the host root is moved away from the mount namespace, not just hidden'] : []),
    ...(busybox ? ["then the old (host) root detached, so nothing in the container can reach it, by the host's static busybox reached through it"] : []),
  ].join('; ')
  // the held process runs nothing until the gate opens: its root is built while it joins its cgroups
  const start: Step[] = [{
    after: [`ctr.${c.name}.start`, ...needs.image, prepare.at(-1)!.id, ...needs.binds],
    id: full ? `ctr.${c.name}.pivot_root` : `ctr.${c.name}.mount-root`,
    why,
    op: {kind: 'run', argv: ['nsenter', '--target', ref, '--mount', '--pid', ...(pod.hostNetwork ? [] : ['--net']), '--', 'sh', '-c', script, 'sh', join(dir, 'fstab.root'), fstabBinds, devDir, merged, ...(busybox ? [join('/.oldroot', busybox)] : [])]},
    undo: null,
  }]
  if (!full) return {files: prepare, start}
  if (!busybox) start.push({id: `ctr.${c.name}.umount-oldroot`, why: "detach the old (host) root so nothing in the container can reach it; run with the host's tools through /proc/<pid>/root", op: {kind: 'run', argv: ['nsenter', '--target', ref, '--mount', '--root=/', '--wd=/', '--', 'umount', '--lazy', `/proc/${ref}/root/.oldroot`]}, undo: null})
  start.push({id: `ctr.${c.name}.rmdir-oldroot`, why: 'remove the empty old-root mount point', op: {kind: 'rmdir', path: `/proc/${ref}/root/.oldroot`}, undo: null})
  return {files: prepare, start}
}

/** Last, every gate opens: each container execs its command once the whole pod is ready. */
function releaseSteps({pod, full}: PlanLayout): Step[] {
  return pod.containers.map((c) => ({id: `ctr.${c.name}.release`, why: full ? 'open the gate: the process drops to the default capabilities with no_new_privs (setpriv) and execs the command' : 'open the gate: the process execs the command', op: {kind: 'release', container: c.name}, undo: null}))
}

/** A run of steps one after another, the first waiting for the steps named (those present). */
function lane(after: Array<string | undefined>, steps: Step[]): Step[] {
  if (!steps.length) return steps
  return [{...steps[0], after: after.filter((id): id is string => id !== undefined)}, ...steps.slice(1)]
}

/** The steps no later step waits for: what the last step must wait for, so that it comes last. */
function ends(steps: Step[]): string[] {
  const waitedFor = new Set(stepDependencies(steps).flat())
  return steps.filter((_, i) => !waitedFor.has(i)).map((s) => s.id)
}

/**
 * Builds the whole create plan: the phases of a pod start, as a kubelet and runtime take them,
 * in lanes that run at once once the state dir is claimed (the pause first: the containers wait
 * for it), then the pod's network beside each container's start and root; the gates open when
 * all are done. Each step waits only for what it uses.
 */
export function planSandbox(cfg: SandboxConfig): Plan {
  const layout = planLayout(cfg)
  const [claim, ...stateFiles] = stateSteps(layout)
  const pause = pauseSteps(layout)
  const lease = leaseSteps(layout)
  const logs = logSteps(layout)
  const network = networkSteps(layout)
  const pod = [...stateFiles, ...network.files, ...rootfsSteps(layout), ...emptyDirSteps(layout)]
  const cgroups = cgroupLanes(layout, [
    ...podCgroupSteps(layout),
    ...sandboxCgroupSteps(layout),
    ...cfg.manifest.containers.flatMap((c, i) => containerCgroupSteps(layout, c, layout.containers[i])),
  ])
  const last = (steps: Step[]) => (steps.length ? [steps.at(-1)!.id] : [])
  const logDirs = logs.filter((s) => /^logs\.[^.]+\.dir$/.test(s.id)).map((s) => s.id)
  const needs: ContainerNeeds = {start: [...last(pause), ...logDirs], cgroups: cgroups.flatMap(last), image: last(pod), binds: [...last(pod), ...last(pause)]}
  const containers = cfg.manifest.containers.map((c, i) => containerSteps(layout, c, layout.containers[i], needs))
  const steps = [
    claim,
    ...lane([claim.id], pause),
    ...lane([claim.id], logs),
    ...containers.flatMap((c) => lane([claim.id], c.files)),
    ...lane([claim.id], lease),
    ...lane([claim.id], pod),
    ...cgroups.flatMap((steps) => lane([claim.id], steps)),
    ...lane([...last(pause), ...needs.cgroups], pauseSettingSteps(layout)),
    ...containers.flatMap((c) => c.start),
    ...lane([...last(pause), ...last(lease), ...network.files.map((s) => s.id)], network.run),
  ]
  steps.push(...lane(ends(steps), releaseSteps(layout)))
  const {qos, podCgroup, sandboxCgroup, podLimits, logDir, containers: info, hostname} = layout
  return {
    steps,
    warnings: isolationWarnings(cfg.isolation),
    info: {qos, podCgroupPath: podCgroup, sandboxCgroupPath: sandboxCgroup, podLimits, logDir, containers: info, hostname},
  }
}

/** For each step, the indexes of the steps it waits for: those its `after` names, else the one before it. */
export function stepDependencies(steps: Step[]): number[][] {
  const at = new Map(steps.map((s, i) => [s.id, i]))
  return steps.map((step, i) => {
    if (!step.after) return i ? [i - 1] : []
    return step.after.map((id) => {
      const k = at.get(id)
      if (k === undefined || k >= i) throw new Error(`plan: step ${step.id} waits for ${id}, which does not come before it`)
      return k
    })
  })
}

/** Replaces {pause} and {ctr:NAME} with PIDs; an unknown reference is left as it is. */
export function resolveRefs(text: string, pids: Record<string, number>): string {
  return text.replace(/\{(pause|ctr:[a-z0-9-]+)\}/g, (whole, ref: string) => (pids[ref] !== undefined ? String(pids[ref]) : whole))
}

/** Every string in an op with references resolved. */
export function resolveOp<T>(value: T, pids: Record<string, number>): T {
  if (typeof value === 'string') return resolveRefs(value, pids) as T
  if (Array.isArray(value)) return value.map((v) => resolveOp(v, pids)) as T
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'ref' ? v : resolveOp(v, pids)])) as T
  }
  return value
}

/** One line for --explain: the command (or file operation) a step performs. */
export function describeOp(op: Op): string {
  switch (op.kind) {
    case 'mkdir': return `mkdir ${op.path}` + (op.like ? `  (mode and owner of ${op.like}, if a folder)` : '')
    case 'rmdir': return `rmdir ${op.path}`
    // a whole file the plan wrote (an fstab) is shown whole: it is what the next step mounts
    case 'write': return op.content === '' ? `touch ${op.path}` : /\/(fstab\.[a-z]+|[a-z-]+\.batch)$/.test(op.path) ? `write ${op.path} <<EOF\n${op.content.trimEnd().split('\n').map((l) => '      ' + l).join('\n')}\n      EOF` : `write ${op.path} <- ${JSON.stringify(op.content.length > 60 ? op.content.slice(0, 57) + '...' : op.content)}`
    case 'symlink': return `ln -s ${op.target} ${op.path}`
    case 'lease': return `create ${op.path} (exclusive)`
    case 'rootfs': return op.source.kind === 'layer' ? `use ${op.dir} (built from ${op.source.binary} if absent)` : `build ${op.dir} from ${op.source.kind}`
    case 'run': return shellLine(op.argv) + (op.stdin ? ` <<EOF\n${op.stdin.trimEnd().split('\n').map((l) => '      ' + l).join('\n')}\n      EOF` : '')
    case 'spawnPause': return shellLine(op.argv) + ' &'
    case 'startContainer': return shellLine(op.chain) + ` &  (stdout/stderr -> ${op.logPath})`
    case 'joinCgroup': return op.dirs.map((d) => `echo ${op.ref} > ${d}/cgroup.procs`).join('; ')
    case 'oomScoreAdj': return `echo ${op.value} > /proc/${op.ref}/oom_score_adj`
    case 'release': return `release ${op.container}`
  }
}
