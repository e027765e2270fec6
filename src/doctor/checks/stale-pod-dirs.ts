import type {Host} from '../../host/host.js'
import {type Check, listOf, pass, skip, warn} from '../check.js'
import {scanPodCgroups} from '../facts/pod-cgroups.js'

export interface StalePodDirsFacts {
  /** UIDs of /var/lib/kubelet/pods/<uid>, undefined when the folder is missing */
  podDirs: string[] | undefined
  /** UIDs of pods with a running process */
  running: string[]
}

export const stalePodDirs: Check<StalePodDirsFacts> = {
  id: 'stale-pod-dirs',
  area: 'pods',
  title: 'no kubelet pod folder for a pod that no longer runs',
  why: 'a pod folder the kubelet cannot remove usually hides a volume still mounted ("orphaned pod ... found, but volume paths are still present on disk")',
  async gather(host: Host) {
    const entries = await host.readDir('/var/lib/kubelet/pods')
    const running = (await scanPodCgroups(host)).filter((p) => p.pids.length > 0).map((p) => p.podUid)
    return {podDirs: entries?.filter((e) => e.kind === 'dir').map((e) => e.name), running}
  },
  evaluate({podDirs, running}) {
    if (podDirs === undefined) return skip('no /var/lib/kubelet/pods')
    const live = new Set(running)
    const stale = podDirs.filter((uid) => !live.has(uid))
    if (stale.length === 0) return pass(`${podDirs.length} pod folders, each with a running pod`)
    return warn(`${stale.length} of ${podDirs.length} pod folders have no running pod: ${listOf(stale)}`,
      'look for mounts left behind (grep <uid> /proc/mounts), unmount them; the kubelet then removes the folder itself', stale.map((uid) => `/var/lib/kubelet/pods/${uid}`))
  },
}
