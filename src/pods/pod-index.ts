import type {Host} from '../host/host.js'
import {identifyCgroupPath} from '../parse/cgroup.js'
import type {PodLogs} from '../parse/log-files.js'
import {type ContainerLogIndex, readLogIndex} from './log-files.js'
import type {ProcInfo} from './proc-scan.js'
import {type RuntimeConfig, readRuntimeConfigs} from './runtime-files.js'
import type {CgroupDriver, QosClass, Runtime} from './types.js'

/** A container as the host files show it, before the detailed reads. */
export interface ContainerDraft {
  id: string
  name: string | null
  sandbox: boolean
  procs: ProcInfo[]
  config: RuntimeConfig | undefined
}

/** A pod as the host files show it: joined on pod UID from cgroups, log dirs and runtime configs. */
export interface PodDraft {
  uid: string
  namespace: string | null
  name: string | null
  qosClass: QosClass | null
  cgroupDriver: CgroupDriver
  cgroupVersion: 1 | 2 | null
  runtime: Runtime
  containers: Map<string, ContainerDraft>
  /** processes in the pod's cgroup but in no container's */
  podLevelProcs: ProcInfo[]
  logs: PodLogs | undefined
  /** sources that named the pod, for findings when they disagree */
  names: Array<{source: string; namespace: string | null; name: string | null}>
}

export interface PodIndex {
  pods: Map<string, PodDraft>
  logIndex: ContainerLogIndex
}

const PAUSE = /(^|\/)pause$/

/** Joins processes (by cgroup identity), runtime configs and kubelet log dirs into pods. */
export async function indexPods(host: Host, procs: ProcInfo[], logs?: ContainerLogIndex): Promise<PodIndex> {
  const pods = new Map<string, PodDraft>()
  const draft = (uid: string): PodDraft => {
    let pod = pods.get(uid)
    if (!pod) {
      pod = {uid, namespace: null, name: null, qosClass: null, cgroupDriver: 'unknown', cgroupVersion: null, runtime: 'unknown', containers: new Map(), podLevelProcs: [], logs: undefined, names: []}
      pods.set(uid, pod)
    }
    return pod
  }

  for (const proc of procs) {
    const {podUid, containerId, qosClass, driver, runtime, conmon, version} = proc.identity
    if (!podUid || conmon) continue
    const pod = draft(podUid)
    pod.qosClass ??= qosClass
    if (pod.cgroupDriver === 'unknown' && driver) pod.cgroupDriver = driver
    pod.cgroupVersion ??= version
    if (pod.runtime === 'unknown' && runtime && runtime !== 'unknown') pod.runtime = runtime
    if (!containerId) {
      pod.podLevelProcs.push(proc)
      continue
    }
    let container = pod.containers.get(containerId)
    if (!container) {
      container = {id: containerId, name: null, sandbox: false, procs: [], config: undefined}
      pod.containers.set(containerId, container)
    }
    container.procs.push(proc)
  }

  const containers = [...pods.values()].flatMap((pod) => [...pod.containers.values()].map((c) => ({pod, c})))
  // all at once: a folder of configs proved once per place, not a path resolved per container
  const configs = await readRuntimeConfigs(host, containers.map(({pod, c}) => ({id: c.id, hint: pod.runtime})))
  for (let i = 0; i < containers.length; i++) {
    const {pod, c} = containers[i]
    c.config = configs[i]
    const meta = c.config?.spec.meta
    if (!c.config) continue
    if (pod.runtime === 'unknown') pod.runtime = c.config.runtime
    if (!meta) continue
    c.sandbox = meta.sandbox
    c.name = meta.sandbox ? null : meta.containerName
    if (meta.podName || meta.podNamespace) pod.names.push({source: c.config.path, namespace: meta.podNamespace, name: meta.podName})
  }

  const logIndex = logs ?? (await readLogIndex(host))
  for (const logs of logIndex.pods) {
    const pod = draft(logs.uid)
    pod.logs = logs
    if (logs.name) pod.names.push({source: logs.path, namespace: logs.namespace, name: logs.name})
  }
  const byId = new Map(containers.map(({pod, c}) => [c.id, {pod, c}]))
  for (const link of logIndex.links) {
    const known = byId.get(link.containerId)
    if (!known) continue
    known.c.name ??= link.container
    known.pod.names.push({source: link.link, namespace: link.namespace, name: link.pod})
  }

  for (const pod of pods.values()) {
    const first = pod.names[0]
    pod.namespace = first?.namespace ?? null
    pod.name = first?.name ?? null
    for (const c of pod.containers.values()) {
      // no runtime config and no log link: the pause process gives the sandbox away
      if (!c.config?.spec.meta && !c.name && c.procs.some((p) => PAUSE.test(p.argv[0] ?? '') || p.comm === 'pause')) c.sandbox = true
    }
  }
  return {pods, logIndex}
}

/** The pod cgroup's path in each hierarchy, cut from a member process's cgroup lines. */
export function podCgroupPaths(procs: ProcInfo[]): Map<string, string> {
  const paths = new Map<string, string>()
  for (const proc of procs) {
    for (const entry of proc.cgroup) {
      const podPath = identifyCgroupPath(entry.path).podPath
      if (!podPath) continue
      const keys = entry.hierarchyId === 0 ? [''] : entry.controllers
      for (const key of keys) if (!paths.has(key)) paths.set(key, podPath)
    }
  }
  return paths
}

/** A container's cgroup path in each hierarchy. */
export function containerCgroupPaths(proc: ProcInfo): Map<string, string> {
  const paths = new Map<string, string>()
  for (const entry of proc.cgroup) {
    const keys = entry.hierarchyId === 0 ? [''] : entry.controllers
    for (const key of keys) paths.set(key, entry.path)
  }
  return paths
}

/**
 * The container's main process: PID 1 of the container's own PID namespace, else (hostPID, or
 * a shared pod PID namespace) the one whose parent is outside the container, the shim's child.
 */
export function mainProcess(procs: ProcInfo[]): ProcInfo | undefined {
  const init = procs.filter((p) => p.nsPid === 1 && (p.status?.nsPid.length ?? 1) > 1)
  if (init.length === 1) return init[0]
  const pids = new Set(procs.map((p) => p.pid))
  const roots = procs.filter((p) => !pids.has(p.ppid))
  return [...(roots.length ? roots : procs)].sort((a, b) => a.nsPid - b.nsPid || a.pid - b.pid)[0]
}
