import {type Host, hostPath} from '../host/host.js'
import {identifyCgroupPath} from '../parse/cgroup.js'
import type {MountinfoEntry} from '../parse/mountinfo.js'
import type {CgroupMounts} from './cgroup-reader.js'
import type {CgroupDriver, QosClass, Runtime} from './types.js'

/**
 * Where the kubelet puts a pod's cgroup, in every layout it uses: cgroupfs and systemd drivers,
 * each QoS class, and kind's kubelet.slice nesting. The raw "slice:prefix:id" form has no pod
 * folder and is found by the full /proc scan instead.
 */
export function podCgroupCandidates(uid: string): string[] {
  const slice = uid.replace(/-/g, '_')
  const candidates: string[] = []
  for (const root of ['', '/kubelet']) {
    candidates.push(`${root}/kubepods/pod${uid}`, `${root}/kubepods/burstable/pod${uid}`, `${root}/kubepods/besteffort/pod${uid}`)
  }
  for (const [parent, prefix] of [['', 'kubepods'], ['/kubelet.slice', 'kubelet-kubepods']]) {
    const top = `${parent}/${prefix}.slice`
    candidates.push(`${top}/${prefix}-pod${slice}.slice`)
    for (const qos of ['burstable', 'besteffort']) candidates.push(`${top}/${prefix}-${qos}.slice/${prefix}-${qos}-pod${slice}.slice`)
  }
  return candidates
}

function parsePids(text: string | undefined): number[] {
  return (text ?? '').split('\n').filter(Boolean).map(Number).filter(Number.isInteger)
}

/**
 * The PIDs in a pod's cgroup and its containers' cgroups, read from cgroup.procs: a pod's
 * processes without scanning all of /proc. undefined when the pod's cgroup is not found.
 */
export async function pidsInPodCgroup(host: Host, mounts: CgroupMounts, uid: string): Promise<number[] | undefined> {
  const mount = mounts.v1.get('memory') ?? mounts.v1.get('pids') ?? mounts.v2
  if (!mount) return undefined
  // a hierarchy mounted from below its root (inside a cgroup namespace) shows paths relative to it
  const base = mount.mountPoint
  for (const candidate of podCgroupCandidates(uid)) {
    const dir = `${base}${candidate}`
    const entries = await host.readDir(dir)
    if (!entries) continue
    const pids = parsePids(await host.readFile(`${dir}/cgroup.procs`))
    for (const entry of entries) if (entry.kind === 'dir') pids.push(...parsePids(await host.readFile(`${dir}/${entry.name}/cgroup.procs`)))
    return pids
  }
  return undefined
}

/** A pod cgroup found by walking the kubelet's cgroup tree, with the container cgroups below it. */
export interface PodCgroupTree {
  uid: string
  /** the cgroup path as the kernel names it (/proc/<pid>/cgroup, kernel log lines) */
  path: string
  qosClass: QosClass | null
  driver: CgroupDriver | null
  containers: Array<{id: string; path: string; runtime: Runtime | null}>
}

/** The hierarchy the kubelet's tree is walked in: v1's memory controller (cpu, pids if not), else the unified one. */
export function kubeletHierarchy(mounts: CgroupMounts): {version: 1 | 2; mount: MountinfoEntry} | undefined {
  const v1 = mounts.v1.get('memory') ?? mounts.v1.get('cpu') ?? mounts.v1.get('pids')
  if (v1) return {version: 1, mount: v1}
  return mounts.v2 ? {version: 2, mount: mounts.v2} : undefined
}

// cgroupfs kubepods/burstable/pod<uid> is 3 deep, kind's kubelet.slice/.../pod<uid>.slice 4
const MAX_POD_DEPTH = 5

/**
 * Every pod cgroup under the kubelet's roots (kubepods, kubepods.slice, kind's kubelet.slice),
 * read from the cgroup tree rather than from processes, so that a container whose processes
 * have all exited is still found while its cgroup exists.
 */
export async function walkPodCgroups(host: Host, mount: MountinfoEntry): Promise<PodCgroupTree[]> {
  const prefix = mount.root === '/' ? '' : mount.root
  const pods: PodCgroupTree[] = []
  const walk = async (rel: string, depth: number): Promise<void> => {
    const entries = (await host.readDir(hostPath(mount.mountPoint, rel))) ?? []
    for (const entry of entries) {
      if (entry.kind !== 'dir') continue
      if (depth === 0 && !/^(kubepods|kubelet)/.test(entry.name)) continue
      const child = `${rel}/${entry.name}`
      const identity = identifyCgroupPath(child)
      if (identity.podUid && identity.podPath === child && !identity.containerId) {
        pods.push({uid: identity.podUid, path: prefix + child, qosClass: identity.qosClass, driver: identity.driver, containers: await containersOf(host, mount, child, prefix)})
      } else if (!identity.podUid && depth < MAX_POD_DEPTH) await walk(child, depth + 1)
    }
  }
  await walk('', 0)
  return pods
}

async function containersOf(host: Host, mount: MountinfoEntry, podRel: string, prefix: string): Promise<PodCgroupTree['containers']> {
  const containers: PodCgroupTree['containers'] = []
  for (const entry of (await host.readDir(hostPath(mount.mountPoint, podRel))) ?? []) {
    if (entry.kind !== 'dir') continue
    const identity = identifyCgroupPath(`${podRel}/${entry.name}`)
    // CRI-O's conmon has a scope of its own beside the container's: not a container
    if (identity.containerId && !identity.conmon) containers.push({id: identity.containerId, path: `${prefix}${podRel}/${entry.name}`, runtime: identity.runtime})
  }
  return containers
}
