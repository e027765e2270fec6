import {NodedocError} from '../errors.js'
import pMap from 'p-map'
import type {Host} from '../host/host.js'
import {CONTAINER_LOG_LINKS, POD_LOG_ROOT} from '../pods/log-files.js'
import {type CgroupMounts, cgroupMountsOf, readCgroupCounters, readHostMounts} from '../pods/cgroup-reader.js'
import {type PodCgroupTree, kubeletHierarchy, walkPodCgroups} from '../pods/pod-cgroups.js'
import {readRuntimeConfig} from '../pods/runtime-files.js'
import {parseContainerLogLinkName, parsePodLogDirName} from '../parse/log-files.js'
import type {ContainerSample, PodSample, UsageSample} from './types.js'

/** The node's cgroup layout is not there to be read: no cgroup hierarchy in its mount table. */
export class NodeUnreadableError extends NodedocError {
  constructor(message: string) {
    super(message, 3)
  }
}

/** What a container ID is, from the runtime's config: read once per container, not per sample. */
interface ContainerIdentity {
  name: string | null
  sandbox: boolean
  podNamespace: string | null
  podName: string | null
}

// v1: the kubelet names a pod's cgroup the same in every controller it uses
const V1_CONTROLLERS = ['cpu', 'cpuacct', 'memory', 'pids']
// ~110 pods x 4 cgroups x 11 files per sample: enough in flight to overlap, few enough to stay small
const CONCURRENCY = 16

/**
 * Takes samples of every pod cgroup on a node through a Host. Keeps, between samples, only
 * what cannot change (the mount table, each container ID's runtime identity), and only for
 * containers still there: a node watched for days does not grow it.
 */
export class UsageSampler {
  private mounts: CgroupMounts | undefined
  private readonly identities = new Map<string, ContainerIdentity | null>()

  constructor(private readonly host: Host, private readonly clock: () => {wallMs: number; monotonicMs: number} = systemClock) {}

  async sample(): Promise<UsageSample> {
    const {wallMs, monotonicMs} = this.clock()
    this.mounts ??= cgroupMountsOf(await readHostMounts(this.host))
    const hierarchy = kubeletHierarchy(this.mounts)
    if (!hierarchy) throw new NodeUnreadableError(`no cgroup hierarchy in ${this.host.description}'s /proc/1/mountinfo: cannot read pod cgroups`)
    const [trees, names] = await Promise.all([walkPodCgroups(this.host, hierarchy.mount), this.readNames()])
    const mounts = this.mounts
    const pods = await pMap(trees, (tree) => this.samplePod(tree, hierarchy.version, mounts, names), {concurrency: CONCURRENCY})
    const seen = new Set(trees.flatMap((t) => t.containers.map((c) => c.id)))
    for (const id of this.identities.keys()) if (!seen.has(id)) this.identities.delete(id)
    return {time: new Date(wallMs).toISOString(), monotonicMs, cgroupVersion: hierarchy.version, pods}
  }

  private async samplePod(tree: PodCgroupTree, version: 1 | 2, mounts: CgroupMounts, names: Names): Promise<PodSample> {
    const counters = readCgroupCounters(this.host, mounts, version, pathsOf(tree.path, version))
    const containers = await Promise.all(
      tree.containers.map(async (c): Promise<ContainerSample> => {
        const linked = names.containers.get(c.id)
        const identity = linked ? undefined : await this.identity(c.id, c.runtime)
        return {
          id: c.id,
          name: linked?.container ?? identity?.name ?? null,
          sandbox: identity?.sandbox ?? false,
          cgroupPath: c.path,
          counters: await readCgroupCounters(this.host, mounts, version, pathsOf(c.path, version)),
        }
      }),
    )
    const fromLink = tree.containers.map((c) => names.containers.get(c.id)).find(Boolean)
    const fromConfig = tree.containers.map((c) => this.identities.get(c.id)).find((i) => i?.podName)
    const pod = names.pods.get(tree.uid) ?? (fromLink ? {namespace: fromLink.namespace, name: fromLink.pod} : fromConfig ? {namespace: fromConfig.podNamespace, name: fromConfig.podName} : undefined)
    return {
      uid: tree.uid,
      namespace: pod?.namespace ?? null,
      name: pod?.name ?? null,
      qosClass: tree.qosClass,
      cgroupDriver: tree.driver,
      cgroupPath: tree.path,
      counters: await counters,
      containers,
    }
  }

  /** A container with no /var/log/containers link (the sandbox, mostly): the runtime's config says what it is. */
  private async identity(id: string, runtime: PodCgroupTree['containers'][number]['runtime']): Promise<ContainerIdentity | null> {
    if (this.identities.has(id)) return this.identities.get(id)!
    const config = await readRuntimeConfig(this.host, id, runtime)
    const meta = config?.spec.meta
    const identity = meta ? {name: meta.sandbox ? null : meta.containerName, sandbox: meta.sandbox, podNamespace: meta.podNamespace, podName: meta.podName} : null
    this.identities.set(id, identity)
    return identity
  }

  /** Pod and container names from the kubelet's log folder and link names: two directory listings. */
  private async readNames(): Promise<Names> {
    const [podDirs, links] = await Promise.all([this.host.readDir(POD_LOG_ROOT), this.host.readDir(CONTAINER_LOG_LINKS)])
    const pods = new Map<string, {namespace: string | null; name: string | null}>()
    for (const entry of podDirs ?? []) {
      const dir = parsePodLogDirName(entry.name)
      if (dir?.layout === 'current') pods.set(dir.uid, {namespace: dir.namespace, name: dir.name})
    }
    const containers = new Map<string, {pod: string; namespace: string; container: string}>()
    for (const entry of links ?? []) {
      const link = parseContainerLogLinkName(entry.name)
      if (link) containers.set(link.containerId, link)
    }
    return {pods, containers}
  }
}

interface Names {
  pods: Map<string, {namespace: string | null; name: string | null}>
  containers: Map<string, {pod: string; namespace: string; container: string}>
}

function pathsOf(path: string, version: 1 | 2): Map<string, string> {
  return new Map(version === 2 ? [['', path]] : V1_CONTROLLERS.map((c) => [c, path]))
}

function systemClock(): {wallMs: number; monotonicMs: number} {
  return {wallMs: Date.now(), monotonicMs: performance.now()}
}
