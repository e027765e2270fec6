import type {Host} from '../host/host.js'
import {whyDns} from './dns.js'
import {kernelOomKills, nodePods, udpConntrack} from './facts.js'
import {netnsPid, readSockets, runningContainer} from './pod-files.js'
import {whyPod} from './pod.js'
import {readSenderFacts} from './svc.js'

/**
 * For `nodedoc snapshot`: runs `why pod` and `why dns` for every pod, and reads what `why svc`
 * reads of every sender and endpoint (routes, sockets, hairpin mode), so that `why` on the
 * snapshot reads the same files and gives the live answer. Node-wide reads happen once.
 */
export async function gatherWhyFacts(host: Host): Promise<void> {
  await Promise.all([udpConntrack(host), kernelOomKills(host)])
  for (const pod of await nodePods(host)) {
    await whyPod(host, pod)
    if (runningContainer(pod)) await whyDns(host, pod)
    const pid = netnsPid(pod)
    if (pid !== null) await readSockets(host, pid)
  }
  await readSenderFacts(host)
}
