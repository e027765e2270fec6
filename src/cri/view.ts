import type {Container, ContainerStatusResponse, LinuxContainerResources, PodSandbox, PodSandboxStatusResponse} from '../host/cri-api.js'

// What the runtime says about the node, flattened into records nodedoc can compare with the
// host truth. Conversions are pure: CRI answers in, records out.

export interface CriSandboxRecord {
  id: string
  namespace: string | null
  name: string | null
  uid: string | null
  attempt: number
  state: 'ready' | 'notready'
  createdAt: string | null
  /** primary IP first, then additional IPs; empty for hostNetwork pods */
  ips: string[]
  /** the pause process, from verbose info */
  pid: number | null
  hostNetwork: boolean | null
  netnsPath: string | null
  logDirectory: string | null
  cgroupParent: string | null
  runtimeHandler: string
  /** the pod's labels, as the kubelet gave them to the runtime */
  labels?: Record<string, string>
}

export interface CriResources {
  memoryLimitBytes: number | null
  cpuShares: number | null
  cpuQuotaUs: number | null
  cpuPeriodUs: number | null
  oomScoreAdj: number | null
}

export interface CriContainerRecord {
  id: string
  sandboxId: string
  name: string | null
  attempt: number
  state: 'created' | 'running' | 'exited' | 'unknown'
  createdAt: string | null
  startedAt: string | null
  finishedAt: string | null
  exitCode: number | null
  reason: string | null
  image: string | null
  imageRef: string | null
  logPath: string | null
  /** the container's init process on the host, from verbose info */
  pid: number | null
  /** the kubelet's annotation when present, else the CRI attempt */
  restartCount: number
  pod: {namespace: string | null; name: string | null; uid: string | null}
  resources: CriResources | null
  cgroupsPath: string | null
}

export interface CriRuntimeRecord {
  name: string
  version: string
  apiVersion: string
}

export interface CriView {
  endpoint: string
  runtime: CriRuntimeRecord
  sandboxes: CriSandboxRecord[]
  containers: CriContainerRecord[]
}

const CONTAINER_STATES: Record<string, CriContainerRecord['state']> = {
  CONTAINER_CREATED: 'created',
  CONTAINER_RUNNING: 'running',
  CONTAINER_EXITED: 'exited',
  CONTAINER_UNKNOWN: 'unknown',
}

/** CRI times are nanoseconds since the epoch; 0 means "not set". */
export function criTime(ns: number | string | null | undefined): string | null {
  const n = Number(ns ?? 0)
  if (!Number.isFinite(n) || n <= 0) return null
  return new Date(Math.floor(n / 1e6)).toISOString()
}

/** The "info" entry of a verbose status: a JSON document whose shape depends on the runtime. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON whose shape depends on the runtime
export function verboseInfo(info: Record<string, string> | undefined): Record<string, any> | null {
  const text = info?.info
  if (!text) return null
  try {
    const parsed = JSON.parse(text)
    return parsed && typeof parsed === 'object' ? parsed : null
  } catch {
    return null
  }
}

function positivePid(value: unknown): number | null {
  const n = Number(value)
  return Number.isInteger(n) && n > 0 ? n : null
}

function orNull(text: string | undefined | null): string | null {
  return text ? text : null
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the OCI spec as the runtime wrote it
function networkNamespacePath(spec: any): string | null {
  const namespaces: Array<{type?: string; path?: string}> = spec?.linux?.namespaces ?? []
  return orNull(namespaces.find((n) => n.type === 'network')?.path)
}

export function sandboxRecord(item: PodSandbox, status?: PodSandboxStatusResponse): CriSandboxRecord {
  const s = status?.status
  const meta = s?.metadata ?? item.metadata
  const info = verboseInfo(status?.info)
  const network = s?.network
  const ips = [network?.ip, ...(network?.additionalIps ?? []).map((a) => a.ip)].filter((ip): ip is string => !!ip)
  const mode = s?.linux?.namespaces?.options?.network
  // CRI-O and containerd both carry the config they were given; field names as in the proto
  const config = info?.config ?? {}
  return {
    id: item.id,
    namespace: orNull(meta?.namespace),
    name: orNull(meta?.name),
    uid: orNull(meta?.uid),
    attempt: meta?.attempt ?? 0,
    state: (s?.state ?? item.state) === 'SANDBOX_READY' ? 'ready' : 'notready',
    createdAt: criTime(s?.createdAt ?? item.createdAt),
    ips,
    pid: positivePid(info?.pid),
    hostNetwork: mode ? mode === 'NODE' : null,
    netnsPath: networkNamespacePath(info?.runtimeSpec),
    logDirectory: orNull(config.log_directory ?? config.logDirectory),
    cgroupParent: orNull(config.linux?.cgroup_parent ?? config.linux?.cgroupParent),
    runtimeHandler: s?.runtimeHandler ?? item.runtimeHandler ?? '',
    labels: {...item.labels, ...s?.labels},
  }
}

function resourcesRecord(linux: LinuxContainerResources | null | undefined): CriResources | null {
  if (!linux) return null
  const value = (n: number | undefined) => (n === undefined || n === 0 ? null : Number(n))
  return {
    memoryLimitBytes: value(linux.memoryLimitInBytes),
    cpuShares: value(linux.cpuShares),
    cpuQuotaUs: value(linux.cpuQuota),
    cpuPeriodUs: value(linux.cpuPeriod),
    oomScoreAdj: linux.oomScoreAdj === undefined ? null : Number(linux.oomScoreAdj),
  }
}

/** Resources from the OCI spec the runtime wrote, for runtimes that leave ContainerStatus.resources empty. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the OCI spec as the runtime wrote it
function ociResources(spec: any): CriResources | null {
  const r = spec?.linux?.resources
  if (!r) return null
  const n = (v: unknown) => (typeof v === 'number' && v !== 0 ? v : null)
  return {
    memoryLimitBytes: n(r.memory?.limit),
    cpuShares: n(r.cpu?.shares),
    cpuQuotaUs: n(r.cpu?.quota),
    cpuPeriodUs: n(r.cpu?.period),
    oomScoreAdj: typeof spec?.process?.oomScoreAdj === 'number' ? spec.process.oomScoreAdj : null,
  }
}

export function containerRecord(item: Container, status?: ContainerStatusResponse): CriContainerRecord {
  const s = status?.status
  const meta = s?.metadata ?? item.metadata
  const labels = {...item.labels, ...s?.labels}
  const annotations = {...item.annotations, ...s?.annotations}
  const info = verboseInfo(status?.info)
  const restart = Number.parseInt(annotations['io.kubernetes.container.restartCount'] ?? '', 10)
  const finished = criTime(s?.finishedAt)
  return {
    id: item.id,
    sandboxId: item.podSandboxId || orNull(info?.sandboxID) || '',
    name: orNull(meta?.name ?? labels['io.kubernetes.container.name']),
    attempt: meta?.attempt ?? 0,
    state: CONTAINER_STATES[s?.state ?? item.state] ?? 'unknown',
    createdAt: criTime(s?.createdAt ?? item.createdAt),
    startedAt: criTime(s?.startedAt),
    finishedAt: finished,
    exitCode: finished ? (s?.exitCode ?? null) : null,
    reason: orNull(s?.reason),
    image: orNull(s?.image?.image ?? item.image?.image),
    imageRef: orNull(s?.imageRef ?? item.imageRef),
    logPath: orNull(s?.logPath),
    pid: positivePid(info?.pid),
    restartCount: Number.isInteger(restart) ? restart : (meta?.attempt ?? 0),
    pod: {
      namespace: orNull(labels['io.kubernetes.pod.namespace']),
      name: orNull(labels['io.kubernetes.pod.name']),
      uid: orNull(labels['io.kubernetes.pod.uid']),
    },
    resources: resourcesRecord(s?.resources?.linux) ?? ociResources(info?.runtimeSpec),
    cgroupsPath: orNull(info?.runtimeSpec?.linux?.cgroupsPath),
  }
}
