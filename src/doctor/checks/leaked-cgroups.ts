import type {Host} from '../../host/host.js'
import {type Check, listOf, pass, skip, warn} from '../check.js'
import {type PodCgroup, scanPodCgroups} from '../facts/pod-cgroups.js'

export interface LeakedCgroupsFacts {
  pods: Array<Pick<PodCgroup, 'podUid' | 'path'> & {processes: number}>
}

export const leakedCgroups: Check<LeakedCgroupsFacts> = {
  id: 'leaked-cgroups',
  area: 'pods',
  title: 'no pod cgroup without processes',
  why: 'a pod cgroup with no process left is a pod the runtime or kubelet failed to clean up; they accumulate and slow every cgroup walk',
  async gather(host: Host) {
    return {pods: (await scanPodCgroups(host)).map((p) => ({podUid: p.podUid, path: p.path, processes: p.pids.length}))}
  },
  evaluate({pods}) {
    if (pods.length === 0) return skip('no pod cgroups under a kubepods root')
    const empty = pods.filter((p) => p.processes === 0)
    if (empty.length === 0) return pass(`${pods.length} pod cgroups, all with processes`)
    return warn(`${empty.length} of ${pods.length} pod cgroups have no process: ${listOf(empty.map((p) => p.path))}`,
      'if no pod with that UID should run here, remove the folders deepest first (rmdir); the kubelet also removes orphaned pod cgroups when it starts', empty)
  },
}
