import {type Host, hostPath} from '../../host/host.js'
import {oncePerHost} from '../../pods/once-per-host.js'
import {identifyCgroupPath} from '../../parse/cgroup.js'

/** A pod cgroup found under a kubepods root, with the processes of it and all below. */
export interface PodCgroup {
  podUid: string
  /** host path of the pod cgroup directory */
  path: string
  controller: string
  qosClass: string | null
  /** container cgroups below: id -> their pids */
  containers: Array<{id: string | null; path: string; pids: number[]}>
  pids: number[]
}

/** Where kubepods roots live: one v1 controller (pids or memory) is enough, v2 has the unified tree. */
const CONTROLLER_DIRS = ['/sys/fs/cgroup/pids', '/sys/fs/cgroup/memory', '/sys/fs/cgroup/unified', '/sys/fs/cgroup']
const MAX_DEPTH = 6

/** Every pod cgroup on the node, from the first controller hierarchy that has any (once per Host). */
export const scanPodCgroups = oncePerHost(doScan)

async function doScan(host: Host): Promise<PodCgroup[]> {
  for (const controllerDir of CONTROLLER_DIRS) {
    const top = (await host.readDir(controllerDir)) ?? []
    // kubepods (cgroupfs), kubepods.slice (systemd), kubelet.slice (kind); anything named kubepods*
    const roots = top.filter((e) => e.kind === 'dir' && /^(kubepods|kubelet)/.test(e.name))
    if (roots.length === 0) continue
    const pods: PodCgroup[] = []
    for (const root of roots) await walk(host, hostPath(controllerDir, root.name), controllerDir, 0, pods)
    if (pods.length > 0 || controllerDir !== '/sys/fs/cgroup') return pods
  }
  return []
}

async function readPids(host: Host, dir: string): Promise<number[]> {
  const text = await host.readFile(hostPath(dir, 'cgroup.procs'))
  return (text ?? '').split('\n').filter(Boolean).map(Number)
}

async function walk(host: Host, dir: string, controllerDir: string, depth: number, pods: PodCgroup[]): Promise<void> {
  const rel = dir.slice(controllerDir.length)
  const identity = identifyCgroupPath(rel)
  if (identity.podUid && identity.podPath === rel) {
    const pod: PodCgroup = {podUid: identity.podUid, path: dir, controller: controllerDir, qosClass: identity.qosClass, containers: [], pids: await readPids(host, dir)}
    for (const sub of (await host.readDir(dir)) ?? []) {
      if (sub.kind !== 'dir') continue
      const path = hostPath(dir, sub.name)
      const pids = await collectPids(host, path, 0)
      pod.containers.push({id: identifyCgroupPath(`${rel}/${sub.name}`).containerId, path, pids})
      pod.pids.push(...pids)
    }
    pods.push(pod)
    return
  }
  if (depth >= MAX_DEPTH) return
  for (const sub of (await host.readDir(dir)) ?? []) {
    if (sub.kind === 'dir') await walk(host, hostPath(dir, sub.name), controllerDir, depth + 1, pods)
  }
}

async function collectPids(host: Host, dir: string, depth: number): Promise<number[]> {
  const pids = await readPids(host, dir)
  if (depth < 3) for (const sub of (await host.readDir(dir)) ?? []) if (sub.kind === 'dir') pids.push(...(await collectPids(host, hostPath(dir, sub.name), depth + 1)))
  return pids
}
