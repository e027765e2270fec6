import type {Host} from '../host/host.js'
import type {CgroupMounts} from './cgroup-reader.js'

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
