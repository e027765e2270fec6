import {randomBytes} from 'node:crypto'
import {access, chmod, mkdir, readFile, readdir, symlink, writeFile} from 'node:fs/promises'
import {hostname as nodeHostname} from 'node:os'
import {join} from 'node:path'
import {execa} from 'execa'
import type {ContainerConfig, CriClient, CriMount, PodSandboxConfig} from '../../../src/host/cri-api.js'
import {BUSYBOX_IMAGE, CONTAINER_LOGS, KUBELET_PODS, POD_LOGS} from './layout.js'
import {type QosClass, type Resources, cgroupParent, containerResources, podCgroupValues, qosClass} from './resources.js'
import type {PodState} from './state.js'

// The kubelet's part, played through CRI: the same calls in the same order, with the same
// metadata, labels, annotations, cgroup parent, mounts and log layout a kubelet would use.

export type SeccompProfileType = 'RuntimeDefault' | 'Unconfined' | 'Localhost'

export interface ContainerSpec {
  name: string
  /** an image the node imported (nodeUp's images); busybox when absent */
  image?: string
  command: string[]
  args?: string[]
  resources?: Resources
  volumeMounts?: Array<{name: string; mountPath: string; readOnly?: boolean}>
  securityContext?: {allowPrivilegeEscalation?: boolean; runAsUser?: number; seccompProfile?: {type: SeccompProfileType}}
  /** default /dev/termination-log, as the API server defaults it */
  terminationMessagePath?: string
}

export interface PodSpec {
  name: string
  namespace: string
  labels?: Record<string, string>
  hostNetwork?: boolean
  emptyDirs?: string[]
  securityContext?: {runAsUser?: number; seccompProfile?: {type: SeccompProfileType}}
  containers: ContainerSpec[]
  /** the QoS parent to put the pod cgroup under, when a test wants it wrong (default: the pod's class) */
  cgroupParentQos?: QosClass
}

/**
 * The CRI security context the kubelet sends for a container: the container's fields over the
 * pod's, no_new_privs only for allowPrivilegeEscalation: false, the seccomp profile given or
 * Unconfined (a kubelet without --seccomp-default), the default masked and read-only paths.
 */
export function criSecurityContext(pod: PodSpec, container: ContainerSpec) {
  const sc = container.securityContext ?? {}
  const runAsUser = sc.runAsUser ?? pod.securityContext?.runAsUser
  const seccomp = sc.seccompProfile ?? pod.securityContext?.seccompProfile
  return {
    namespaceOptions: {network: pod.hostNetwork ? 'NODE' : 'POD', pid: 'CONTAINER', ipc: 'POD'} as const,
    ...(runAsUser !== undefined ? {runAsUser: {value: runAsUser}} : {}),
    noNewPrivs: sc.allowPrivilegeEscalation === false,
    seccomp: {profileType: seccomp?.type ?? 'Unconfined'},
    maskedPaths: MASKED_PATHS,
    readonlyPaths: READONLY_PATHS,
  }
}

export const CGROUP_ROOT = '/sys/fs/cgroup'
/** Controllers the kubelet's cgroupfs manager writes pod limits into; runc adds the rest. */
const POD_CGROUP_CONTROLLERS = ['cpu', 'cpuacct', 'memory', 'pids']

const MASKED_PATHS = ['/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware']
const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']
const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount'

const hex = (bytes: number) => randomBytes(bytes).toString('hex')

/** What a kubelet with clusterDNS 10.96.0.10 and the cluster.local domain writes (dnsPolicy ClusterFirst). */
const DNS_CONFIG = (namespace: string) => ({
  servers: ['10.96.0.10'],
  searches: [`${namespace}.svc.cluster.local`, 'svc.cluster.local', 'cluster.local'],
  options: ['ndots:5'],
})

export function podUid(): string {
  const h = hex(16)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false)
}

/** mkdir -p that reports the dirs it made, outermost first. */
export async function mkdirs(path: string): Promise<string[]> {
  const made: string[] = []
  const parts = path.split('/').filter(Boolean)
  let at = ''
  for (const part of parts) {
    at += '/' + part
    if (!(await exists(at))) {
      await mkdir(at).catch((e) => {
        if (e.code !== 'EEXIST') throw e
      })
      made.push(at)
    }
  }
  return made
}

async function nodeMemoryBytes(): Promise<number> {
  const meminfo = await readFile('/proc/meminfo', 'utf8')
  return Number(/MemTotal:\s+(\d+) kB/.exec(meminfo)![1]) * 1024
}

/** kube-api-access-*: a tmpfs with the atomic writer's ..data layout, as the kubelet leaves it. */
async function writeProjectedToken(dir: string, namespace: string, mounts: string[]): Promise<void> {
  await mkdir(dir, {recursive: true})
  await execa('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0755', 'tmpfs', dir])
  mounts.push(dir)
  const stamp = new Date().toISOString().replace(/[-:]/g, '_').replace('T', '_').replace('Z', '')
  const data = join(dir, `..${stamp}`)
  await mkdir(data)
  await writeFile(join(data, 'token'), `nodedoc-test-node.${hex(16)}\n`)
  await writeFile(join(data, 'ca.crt'), '-----BEGIN CERTIFICATE-----\nbm9kZWRvYyB0ZXN0IG5vZGU=\n-----END CERTIFICATE-----\n')
  await writeFile(join(data, 'namespace'), namespace)
  await symlink(`..${stamp}`, join(dir, '..data'))
  for (const file of ['token', 'ca.crt', 'namespace']) await symlink(`..data/${file}`, join(dir, file))
}

function etcHosts(podIp: string | null, hostname: string, hostNetwork: boolean, nodeHosts: string): string {
  if (hostNetwork) return `# Kubernetes-managed hosts file (host network).\n${nodeHosts}`
  return [
    '# Kubernetes-managed hosts file.',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
    ...(podIp ? [`${podIp}\t${hostname}`] : []),
    '',
  ].join('\n')
}

/** The /var/log/containers name: <pod>_<namespace>_<container>-<id>.log, cut at 255 bytes. */
export function containerLogLinkName(pod: string, namespace: string, container: string, id: string): string {
  return `${pod}_${namespace}_${container}-${id}.log`.slice(0, 255)
}

/**
 * Creates a pod the way the kubelet does. `record` is called whenever something new exists,
 * so a failure midway leaves a state that teardown can undo.
 */
export async function createPod(cri: CriClient, spec: PodSpec, pod: PodState, record: () => Promise<void>): Promise<void> {
  const qos = pod.qos
  const resources = spec.containers.map((c) => c.resources ?? {})

  // pod cgroup, with the pod-level limits the kubelet's QoS manager sets
  const values = podCgroupValues(resources, qos)
  for (const controller of POD_CGROUP_CONTROLLERS) {
    const dir = join(CGROUP_ROOT, controller, pod.cgroupParent)
    pod.cgroupDirs.push(...(await mkdirs(dir)))
    await record()
    if (controller === 'cpu') {
      await writeFile(join(dir, 'cpu.shares'), String(values['cpu.shares']))
      await writeFile(join(dir, 'cpu.cfs_period_us'), String(values['cpu.cfs_period_us']))
      await writeFile(join(dir, 'cpu.cfs_quota_us'), String(values['cpu.cfs_quota_us']))
    }
    if (controller === 'memory') await writeFile(join(dir, 'memory.limit_in_bytes'), String(values['memory.limit_in_bytes']))
  }

  // kubelet pod dir and volumes
  const volumes = join(pod.kubeletDir, 'volumes')
  await mkdir(join(pod.kubeletDir, 'plugins'), {recursive: true})
  await record()
  const projected = join(volumes, 'kubernetes.io~projected', `kube-api-access-${hex(3).slice(0, 5)}`)
  await writeProjectedToken(projected, spec.namespace, pod.mounts)
  await record()
  const emptyDirs = new Map<string, string>()
  for (const name of spec.emptyDirs ?? []) {
    const dir = join(volumes, 'kubernetes.io~empty-dir', name)
    await mkdir(dir, {recursive: true})
    await chmod(dir, 0o777)
    emptyDirs.set(name, dir)
  }
  await mkdir(pod.logDir, {recursive: true, mode: 0o755})
  await record()

  // the kubelet leaves the hostname empty for hostNetwork pods: they share the node's UTS namespace
  const hostname = spec.hostNetwork ? '' : spec.name
  const sandboxConfig: PodSandboxConfig = {
    metadata: {name: spec.name, uid: pod.uid, namespace: spec.namespace, attempt: 0},
    hostname,
    logDirectory: pod.logDir,
    dnsConfig: DNS_CONFIG(spec.namespace),
    labels: {
      ...spec.labels,
      'io.kubernetes.pod.name': spec.name,
      'io.kubernetes.pod.namespace': spec.namespace,
      'io.kubernetes.pod.uid': pod.uid,
    },
    annotations: {'kubernetes.io/config.seen': new Date().toISOString(), 'kubernetes.io/config.source': 'api'},
    linux: {
      cgroupParent: pod.cgroupParent,
      securityContext: {namespaceOptions: {network: spec.hostNetwork ? 'NODE' : 'POD', pid: 'CONTAINER', ipc: 'POD'}},
    },
  }
  pod.sandboxId = await cri.runPodSandbox(sandboxConfig)
  await record()
  const status = await cri.podSandboxStatus(pod.sandboxId, true)
  pod.ip = spec.hostNetwork ? null : status.status?.network?.ip || null
  pod.netnsPath = sandboxNetnsPath(status.info)
  await record()

  const nodeHosts = await readFile('/etc/hosts', 'utf8')
  await writeFile(join(pod.kubeletDir, 'etc-hosts'), etcHosts(pod.ip, hostname || nodeHostname(), spec.hostNetwork ?? false, nodeHosts))

  for (const index of spec.containers.keys()) await runContainer(cri, spec, pod, sandboxConfig, index, 0, record)
}

/**
 * One container of a pod, created and started as the kubelet does: attempt 0 at pod start, and
 * attempt n+1 (log <name>/<n+1>.log, a new /var/log/containers link) when it restarts one.
 */
async function runContainer(cri: CriClient, spec: PodSpec, pod: PodState, sandboxConfig: PodSandboxConfig, index: number, attempt: number, record: () => Promise<void>): Promise<string> {
  const container = spec.containers[index]
  const qos = pod.qos
  const resources = spec.containers.map((c) => c.resources ?? {})
  const memory = await nodeMemoryBytes()
  const volumes = join(pod.kubeletDir, 'volumes')
  const projected = await projectedDir(volumes)
  const emptyDirs = new Map((spec.emptyDirs ?? []).map((name) => [name, join(volumes, 'kubernetes.io~empty-dir', name)]))
  {
    const logRel = `${container.name}/${attempt}.log`
    await mkdir(join(pod.logDir, container.name), {recursive: true, mode: 0o755})
    const entry = {name: container.name, id: null as string | null, logPath: join(pod.logDir, logRel)}
    pod.containers.push(entry)
    const terminationDir = join(pod.kubeletDir, 'containers', container.name)
    await mkdir(terminationDir, {recursive: true})
    const terminationLog = join(terminationDir, hex(4))
    await writeFile(terminationLog, '')
    await chmod(terminationLog, 0o666)

    const mounts: CriMount[] = []
    for (const vm of container.volumeMounts ?? []) {
      const source = emptyDirs.get(vm.name)
      if (!source) throw new Error(`${spec.name}/${container.name}: no volume ${vm.name}`)
      mounts.push({containerPath: vm.mountPath, hostPath: source, readonly: vm.readOnly ?? false, propagation: 'PROPAGATION_PRIVATE'})
    }
    mounts.push({containerPath: SERVICE_ACCOUNT_DIR, hostPath: projected, readonly: true, propagation: 'PROPAGATION_PRIVATE'})
    mounts.push({containerPath: '/etc/hosts', hostPath: join(pod.kubeletDir, 'etc-hosts'), readonly: false, propagation: 'PROPAGATION_PRIVATE'})
    const terminationPath = container.terminationMessagePath ?? '/dev/termination-log'
    mounts.push({containerPath: terminationPath, hostPath: terminationLog, readonly: false, propagation: 'PROPAGATION_PRIVATE'})

    const config: ContainerConfig = {
      metadata: {name: container.name, attempt},
      image: {image: container.image ?? BUSYBOX_IMAGE},
      command: container.command,
      args: container.args ?? [],
      envs: [
        {key: 'KUBERNETES_SERVICE_HOST', value: '10.96.0.1'},
        {key: 'KUBERNETES_SERVICE_PORT', value: '443'},
      ],
      mounts,
      labels: {
        'io.kubernetes.container.name': container.name,
        'io.kubernetes.pod.name': spec.name,
        'io.kubernetes.pod.namespace': spec.namespace,
        'io.kubernetes.pod.uid': pod.uid,
      },
      annotations: {
        'io.kubernetes.container.hash': hex(4),
        'io.kubernetes.container.restartCount': String(attempt),
        'io.kubernetes.container.terminationMessagePath': terminationPath,
        'io.kubernetes.container.terminationMessagePolicy': 'File',
        'io.kubernetes.pod.terminationGracePeriod': '30',
      },
      logPath: logRel,
      linux: {
        resources: containerResources(resources[index], qos, memory),
        securityContext: criSecurityContext(spec, container),
      },
    }
    entry.id = await cri.createContainer(pod.sandboxId!, config, sandboxConfig)
    await record()
    const link = join(CONTAINER_LOGS, containerLogLinkName(spec.name, spec.namespace, container.name, entry.id))
    await mkdir(CONTAINER_LOGS, {recursive: true})
    await symlink(entry.logPath, link)
    pod.logLinks.push(link)
    await record()
    await cri.startContainer(entry.id)
    return entry.id
  }
}

/** The pod's kube-api-access-* folder (made once, at pod start). */
async function projectedDir(volumes: string): Promise<string> {
  const dir = join(volumes, 'kubernetes.io~projected')
  const [name] = await readdir(dir)
  return join(dir, name)
}

/** The sandbox config the pod was created with: CreateContainer takes it again on a restart. */
function sandboxConfigOf(spec: PodSpec, pod: PodState): PodSandboxConfig {
  return {
    metadata: {name: spec.name, uid: pod.uid, namespace: spec.namespace, attempt: 0},
    hostname: spec.hostNetwork ? '' : spec.name,
    logDirectory: pod.logDir,
    dnsConfig: DNS_CONFIG(spec.namespace),
    labels: {...spec.labels, 'io.kubernetes.pod.name': spec.name, 'io.kubernetes.pod.namespace': spec.namespace, 'io.kubernetes.pod.uid': pod.uid},
    annotations: {},
    linux: {cgroupParent: pod.cgroupParent, securityContext: {namespaceOptions: {network: spec.hostNetwork ? 'NODE' : 'POD', pid: 'CONTAINER', ipc: 'POD'}}},
  }
}

/**
 * The kubelet restarting a container that exited: the dead one stays (its status and log are
 * what `--previous` and lastState read), a new attempt starts beside it. Returns the new ID.
 */
export async function restartContainer(cri: CriClient, spec: PodSpec, pod: PodState, name: string, record: () => Promise<void>): Promise<string> {
  const index = spec.containers.findIndex((c) => c.name === name)
  if (index < 0) throw new Error(`${spec.name}: no container ${name}`)
  const attempt = pod.containers.filter((c) => c.name === name).length
  return runContainer(cri, spec, pod, sandboxConfigOf(spec, pod), index, attempt, record)
}

/** containerd's verbose sandbox info names the netns path in its runtime spec. */
export function sandboxNetnsPath(info: Record<string, string>): string | null {
  try {
    const parsed = JSON.parse(info.info ?? '{}')
    const ns = parsed.runtimeSpec?.linux?.namespaces?.find((n: {type: string}) => n.type === 'network')
    return ns?.path || null
  } catch {
    return null
  }
}

export function newPodState(spec: PodSpec, uid: string): PodState {
  const qos: QosClass = qosClass(spec.containers.map((c) => c.resources ?? {}))
  return {
    name: spec.name,
    namespace: spec.namespace,
    uid,
    qos,
    hostNetwork: spec.hostNetwork ?? false,
    cgroupParent: cgroupParent(spec.cgroupParentQos ?? qos, uid),
    cgroupDirs: [],
    sandboxId: null,
    netnsPath: null,
    ip: null,
    kubeletDir: join(KUBELET_PODS, uid),
    logDir: join(POD_LOGS, `${spec.namespace}_${spec.name}_${uid}`),
    mounts: [],
    logLinks: [],
    containers: [],
  }
}
