// The records nodedoc reports. Field names are the stable JSON/YAML schema (docs/schema.md):
// add fields freely, never rename or remove one.

import type {CgroupDriver, QosClass, Runtime} from '../parse/cgroup.js'

// what a cgroup path says, in the kubelet's words, is read by the parser below every layer
export type {CgroupDriver, QosClass, Runtime} from '../parse/cgroup.js'
export type NamespaceType = 'net' | 'pid' | 'ipc' | 'uts' | 'mnt' | 'cgroup' | 'user' | 'time'
export const NAMESPACE_TYPES: NamespaceType[] = ['net', 'pid', 'ipc', 'uts', 'mnt', 'cgroup', 'user', 'time']

export interface PodRef {
  namespace: string | null
  name: string | null
  uid: string
}

export interface ContainerRef {
  name: string | null
  id: string
}

/** One line of `nodedoc ps`. */
export interface ProcessRecord {
  pid: number
  ppid: number
  /** The PID as the process sees it in its own (innermost) PID namespace. */
  nsPid: number
  state: string
  command: string
  pod: PodRef | null
  container: ContainerRef | null
  /** True for the sandbox's pause process. */
  sandbox?: boolean
}

/** Namespace inodes, e.g. {net: 4026532451}. */
export type NamespaceInodes = Partial<Record<NamespaceType, number>>

/** How a namespace relates to the sandbox's and the host's. */
export type NamespaceSharing = 'sandbox' | 'host' | 'own'

export interface MountRecord {
  destination: string
  /** The host path behind a bind mount; for overlay the rootfs "overlay"; else the device/source. */
  source: string
  fsType: string
  readOnly: boolean
  propagation: string
  /** Set when the source is a kubelet pod volume. */
  volume: {name: string; plugin: string} | null
  /** overlay rootfs layers */
  overlay?: {upperDir: string | null; lowerDirs: string[]; workDir: string | null}
}

export interface CgroupRecord {
  path: string
  memoryLimitBytes: number | null
  memoryUsageBytes: number | null
  memoryPeakBytes: number | null
  oomKills: number | null
  cpuShares: number | null
  cpuWeight: number | null
  cpuQuotaUs: number | null
  cpuPeriodUs: number | null
  throttledPeriods: number | null
  throttledUs: number | null
  pidsCurrent: number | null
  pidsMax: number | null
}

export interface ProcessTreeNode {
  pid: number
  nsPid: number
  state: string
  zombie: boolean
  command: string
  children: ProcessTreeNode[]
}

export interface ContainerReport {
  name: string | null
  id: string
  state: string
  pid: number | null
  nsPid: number | null
  command: string | null
  restartCount: number | null
  namespaces: NamespaceInodes
  namespaceSharing: Partial<Record<NamespaceType, NamespaceSharing>>
  mounts: MountRecord[]
  cgroup: CgroupRecord | null
  processes: ProcessTreeNode[]
}

export interface InterfaceRecord {
  name: string
  ips: string[]
}

export interface LogFileRecord {
  container: string
  path: string
  sizeBytes: number
  restart: number | null
  /** /var/log/containers links that point here */
  links: string[]
}

export interface PodReport {
  namespace: string | null
  name: string | null
  uid: string
  qosClass: QosClass | null
  runtime: Runtime
  cgroupVersion: 1 | 2 | null
  cgroupDriver: CgroupDriver
  sandbox: {id: string | null; pid: number | null; namespaces: NamespaceInodes}
  cgroup: CgroupRecord | null
  containers: ContainerReport[]
  hostNetwork: boolean
  hostPID: boolean
  hostIPC: boolean
  ips: string[]
  interfaces: InterfaceRecord[]
  hostVeth: {name: string; ifindex: number} | null
  hostRoute: {destination: string; dev: string; via: string | null} | null
  logs: LogFileRecord[]
  /** Disagreements and oddities worth a look (not errors). */
  findings: string[]
}

/** What locating a service endpoint asks of a pod (src/svc/locate.ts): who it is, its addresses, its node-side veth. */
export type PodAddresses = Pick<PodReport, 'namespace' | 'name' | 'uid' | 'ips' | 'hostVeth'>
