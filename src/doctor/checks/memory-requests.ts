import {type Host, hostPath} from '../../host/host.js'
import {parseMemTotal} from '../../parse/meminfo.js'
import {type Check, fail, pass, percent, skip, warn} from '../check.js'
import {scanPodCgroups} from '../facts/pod-cgroups.js'

export interface PodMemory {
  podUid: string
  qosClass: string | null
  /** bytes; from the cgroup limit (Guaranteed) or read back from oom_score_adj (Burstable) */
  requestBytes: number
}

export interface MemoryRequestsFacts {
  memTotalBytes: number | undefined
  pods: PodMemory[]
}

/**
 * The kubelet sets a Burstable container's oom_score_adj to 1000 - 1000 * request / capacity,
 * so the request comes back out of it (to within capacity / 1000).
 */
export function requestFromOomScoreAdj(adj: number, capacityBytes: number): number {
  if (adj >= 999 || adj < 2) return 0
  return Math.round(((1000 - adj) * capacityBytes) / 1000)
}

async function readNumber(host: Host, path: string): Promise<number | undefined> {
  const text = (await host.readFile(path))?.trim()
  if (text === undefined || text === 'max' || text === '') return undefined
  const n = Number(text)
  return Number.isFinite(n) ? n : undefined
}

export const memoryRequests: Check<MemoryRequestsFacts> = {
  id: 'memory-requests',
  area: 'pressure',
  title: 'memory requested by running pods fits the node',
  why: 'requests beyond the node\'s memory mean the scheduler was told a different capacity than the kernel has: pods get OOM-killed or evicted under load',
  async gather(host: Host) {
    const meminfo = await host.readFile('/proc/meminfo')
    const memTotalBytes = meminfo ? parseMemTotal(meminfo) : undefined
    const pods: PodMemory[] = []
    for (const pod of await scanPodCgroups(host)) {
      if (pod.pids.length === 0) continue
      let requestBytes = 0
      if (pod.qosClass === 'Guaranteed') {
        const rel = pod.path.slice(pod.controller.length)
        requestBytes = (await readNumber(host, hostPath('/sys/fs/cgroup/memory', rel, 'memory.limit_in_bytes'))) ?? (await readNumber(host, hostPath('/sys/fs/cgroup', rel, 'memory.max'))) ?? 0
      } else if (pod.qosClass === 'Burstable' && memTotalBytes) {
        for (const container of pod.containers) {
          const pid = container.pids[0]
          const adj = pid ? await readNumber(host, `/proc/${pid}/oom_score_adj`) : undefined
          // the sandbox's pause process sits at -998: not a container with a request
          if (adj !== undefined && adj >= 0) requestBytes += requestFromOomScoreAdj(adj, memTotalBytes)
        }
      }
      pods.push({podUid: pod.podUid, qosClass: pod.qosClass, requestBytes})
    }
    return {memTotalBytes, pods}
  },
  evaluate({memTotalBytes, pods}) {
    if (!memTotalBytes) return skip('MemTotal not readable in /proc/meminfo')
    if (pods.length === 0) return skip('no running pod cgroups to add up')
    const total = pods.reduce((sum, p) => sum + p.requestBytes, 0)
    const used = percent(total, memTotalBytes)
    const seen = `${pods.length} pods request about ${Math.round(total / 2 ** 20)} MiB of ${Math.round(memTotalBytes / 2 ** 20)} MiB (${used}%)`
    const fix = 'set kubeReserved/systemReserved so allocatable is below physical memory, and right-size the largest requests'
    if (used > 100) return fail(seen, fix, pods)
    if (used >= 90) return warn(seen, fix, pods)
    return pass(seen, pods)
  },
}
