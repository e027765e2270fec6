// One pod as the three layers see it, in the same shape so rows can be compared: what the spec
// implies (kubelet rules + the reference runtime's defaults), what the runtime was told (OCI
// config.json) and what the kernel shows.

import {DEFAULT_CAPABILITIES} from '../sandbox/plan.js'
import {containerLimits, oomScoreAdj, podLimits, qosClass} from '../sandbox/kubelet.js'
import {type PodManifest, containerArgv} from '../sandbox/manifest.js'
import {capabilityMask} from './capabilities.js'

/** Values are strings so layers compare by equality; null = this layer cannot say. */
export interface LayerContainer {
  name: string
  pid1: string | null
  namespaces: Record<'net' | 'ipc' | 'uts' | 'pid' | 'mnt', string | null>
  /** destination -> "rw" | "ro" */
  mounts: Record<string, string> | null
  memoryLimit: string | null
  cpuShares: string | null
  cpuQuota: string | null
  oomScoreAdj: string | null
  capEff: string | null
  noNewPrivs: string | null
  seccomp: string | null
  user: string | null
}

export interface LayerPod {
  qos: string | null
  network: string | null
  memoryLimit: string | null
  cpuShares: string | null
  cpuQuota: string | null
  containers: LayerContainer[]
}

const str = (v: number | string | null | undefined): string | null => (v === null || v === undefined ? null : String(v))
export const unlimited = (v: number | null | undefined): string | null => (v === null || v === undefined ? 'unlimited' : String(v))

/** The mounts every container gets from the kubelet and runtime, besides its volumes. */
export const BASE_MOUNTS: Record<string, string> = {
  '/': 'rw', '/proc': 'rw', '/dev': 'rw', '/dev/pts': 'rw', '/dev/shm': 'rw', '/sys': 'ro',
  '/etc/hosts': 'rw', '/etc/hostname': 'rw', '/etc/resolv.conf': 'rw',
}

export const POD_NETWORK = 'own netns, /32 host route to a veth'

/** What the spec implies, by the kubelet's rules and the reference runtime's defaults. */
export function specLayer(pod: PodManifest, nodeMemoryBytes: number): LayerPod {
  const qos = qosClass(pod)
  const limits = podLimits(pod)
  return {
    qos,
    network: pod.hostNetwork ? 'host' : POD_NETWORK,
    memoryLimit: unlimited(limits.memoryLimitBytes),
    cpuShares: String(limits.cpuShares),
    cpuQuota: unlimited(limits.cpuQuotaUs),
    containers: pod.containers.map((c) => {
      const l = containerLimits(c)
      const mounts = {...BASE_MOUNTS}
      if (pod.hostNetwork) delete mounts['/sys'] // the host's network view: sysfs is not remounted for a pod netns
      for (const m of c.volumeMounts) mounts[m.mountPath] = m.readOnly ? 'ro' : 'rw'
      return {
        name: c.name,
        pid1: containerArgv(c).join(' '),
        namespaces: {
          net: pod.hostNetwork ? 'host' : 'sandbox',
          ipc: pod.hostIPC ? 'host' : 'sandbox',
          uts: pod.hostNetwork ? 'host' : 'sandbox',
          pid: pod.hostPID ? 'host' : pod.shareProcessNamespace ? 'sandbox' : 'own',
          mnt: 'own',
        },
        mounts,
        memoryLimit: unlimited(l.memoryLimitBytes),
        cpuShares: String(l.cpuShares),
        cpuQuota: unlimited(l.cpuQuotaUs),
        oomScoreAdj: String(oomScoreAdj(qos, c.resources.requests.memoryBytes, nodeMemoryBytes)),
        capEff: c.runAsUser ? capabilityMask([]) : capabilityMask(DEFAULT_CAPABILITIES),
        noNewPrivs: '1',
        seccomp: '0',
        user: str(c.runAsUser ?? 0),
      }
    }),
  }
}
