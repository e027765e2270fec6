// The CRI runtime.v1 messages nodedoc sends and reads, as @grpc/proto-loader hands them over
// (proto/cri.proto loaded with camelCase names, enums as their names, int64 as numbers, and
// defaults filled in). Only the fields nodedoc uses are typed.

export type Labels = Record<string, string>

export type NamespaceMode = 'POD' | 'CONTAINER' | 'NODE' | 'TARGET'
export type PodSandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY'
export type ContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN'
export type MountPropagation = 'PROPAGATION_PRIVATE' | 'PROPAGATION_HOST_TO_CONTAINER' | 'PROPAGATION_BIDIRECTIONAL'

export interface VersionResponse {
  version: string
  runtimeName: string
  runtimeVersion: string
  runtimeApiVersion: string
}

export interface NamespaceOption {
  network?: NamespaceMode
  pid?: NamespaceMode
  ipc?: NamespaceMode
  targetId?: string
}

export interface LinuxContainerResources {
  cpuPeriod?: number
  cpuQuota?: number
  cpuShares?: number
  memoryLimitInBytes?: number
  oomScoreAdj?: number
  cpusetCpus?: string
  cpusetMems?: string
  unified?: Labels
  memorySwapLimitInBytes?: number
}

export interface PodSandboxMetadata {
  name: string
  uid: string
  namespace: string
  attempt: number
}

export interface DnsConfig {
  servers?: string[]
  searches?: string[]
  options?: string[]
}

export interface PodSandboxConfig {
  metadata: PodSandboxMetadata
  hostname?: string
  logDirectory?: string
  dnsConfig?: DnsConfig
  labels?: Labels
  annotations?: Labels
  linux?: {
    cgroupParent?: string
    securityContext?: {namespaceOptions?: NamespaceOption; privileged?: boolean}
    sysctls?: Labels
    overhead?: LinuxContainerResources
    resources?: LinuxContainerResources
  }
}

export interface PodSandbox {
  id: string
  metadata: PodSandboxMetadata | null
  state: PodSandboxState
  createdAt: number
  labels: Labels
  annotations: Labels
  runtimeHandler: string
}

export interface PodSandboxStatus {
  id: string
  metadata: PodSandboxMetadata | null
  state: PodSandboxState
  createdAt: number
  network: {ip: string; additionalIps: Array<{ip: string}>} | null
  linux: {namespaces: {options: NamespaceOption | null} | null} | null
  labels: Labels
  annotations: Labels
  runtimeHandler: string
}

export interface PodSandboxStatusResponse {
  status: PodSandboxStatus | null
  /** verbose only; each value is a JSON document */
  info: Labels
}

export interface PodSandboxFilter {
  id?: string
  state?: {state: PodSandboxState}
  labelSelector?: Labels
}

export interface CriMount {
  containerPath: string
  hostPath: string
  readonly?: boolean
  selinuxRelabel?: boolean
  propagation?: MountPropagation
}

export interface ContainerMetadata {
  name: string
  attempt: number
}

export interface ContainerConfig {
  metadata: ContainerMetadata
  image: {image: string}
  command?: string[]
  args?: string[]
  workingDir?: string
  envs?: Array<{key: string; value: string}>
  mounts?: CriMount[]
  labels?: Labels
  annotations?: Labels
  logPath?: string
  stdin?: boolean
  tty?: boolean
  linux?: {
    resources?: LinuxContainerResources
    securityContext?: {
      namespaceOptions?: NamespaceOption
      privileged?: boolean
      capabilities?: {addCapabilities?: string[]; dropCapabilities?: string[]}
      readonlyRootfs?: boolean
      noNewPrivs?: boolean
      runAsUser?: {value: number}
      seccomp?: {profileType: 'RuntimeDefault' | 'Unconfined' | 'Localhost'; localhostRef?: string}
      maskedPaths?: string[]
      readonlyPaths?: string[]
    }
  }
}

export interface Container {
  id: string
  podSandboxId: string
  metadata: ContainerMetadata | null
  image: {image: string} | null
  imageRef: string
  state: ContainerState
  createdAt: number
  labels: Labels
  annotations: Labels
}

export interface ContainerStatus {
  id: string
  metadata: ContainerMetadata | null
  state: ContainerState
  createdAt: number
  startedAt: number
  finishedAt: number
  exitCode: number
  image: {image: string} | null
  imageRef: string
  reason: string
  message: string
  labels: Labels
  annotations: Labels
  mounts: CriMount[]
  logPath: string
  resources: {linux: LinuxContainerResources | null} | null
}

export interface ContainerStatusResponse {
  status: ContainerStatus | null
  /** verbose only; each value is a JSON document */
  info: Labels
}

export interface ContainerFilter {
  id?: string
  state?: {state: ContainerState}
  podSandboxId?: string
  labelSelector?: Labels
}

/** A CRI UInt64Value: absent (null) when the runtime has no figure. */
export interface UInt64Value {
  value: number
}

/** The runtime's own reading of a container's cgroup (ContainerStats). */
export interface ContainerStats {
  attributes: {id: string; metadata: ContainerMetadata | null; labels: Labels; annotations: Labels} | null
  cpu: {timestamp: number; usageCoreNanoSeconds: UInt64Value | null; usageNanoCores: UInt64Value | null} | null
  memory: {
    timestamp: number
    workingSetBytes: UInt64Value | null
    availableBytes: UInt64Value | null
    usageBytes: UInt64Value | null
    rssBytes: UInt64Value | null
    pageFaults: UInt64Value | null
    majorPageFaults: UInt64Value | null
  } | null
}

export interface ContainerStatsFilter {
  id?: string
  podSandboxId?: string
  labelSelector?: Labels
}

export interface Image {
  id: string
  repoTags: string[]
  repoDigests: string[]
  size: number
}

/**
 * The runtime.v1 calls nodedoc makes. Reads are what `pod`/`ps` use; the writes exist for the
 * test node, which plays the kubelet's part.
 */
export interface CriClient {
  /** The endpoint as given or detected, e.g. unix:///run/containerd/containerd.sock */
  readonly endpoint: string
  version(): Promise<VersionResponse>
  listPodSandbox(filter?: PodSandboxFilter): Promise<PodSandbox[]>
  podSandboxStatus(podSandboxId: string, verbose?: boolean): Promise<PodSandboxStatusResponse>
  listContainers(filter?: ContainerFilter): Promise<Container[]>
  containerStatus(containerId: string, verbose?: boolean): Promise<ContainerStatusResponse>
  containerStats(containerId: string): Promise<ContainerStats | null>
  listContainerStats(filter?: ContainerStatsFilter): Promise<ContainerStats[]>
  runPodSandbox(config: PodSandboxConfig, runtimeHandler?: string): Promise<string>
  stopPodSandbox(podSandboxId: string): Promise<void>
  removePodSandbox(podSandboxId: string): Promise<void>
  createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string>
  startContainer(containerId: string): Promise<void>
  stopContainer(containerId: string, timeoutSeconds: number): Promise<void>
  removeContainer(containerId: string): Promise<void>
  listImages(): Promise<Image[]>
  imageStatus(image: string): Promise<Image | null>
  close(): void
}
