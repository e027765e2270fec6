import type {Host} from '../host/host.js'
import type {PodLogs} from '../parse/log-files.js'
import {gatherPodLogs} from '../pods/log-files.js'

/**
 * For `nodedoc snapshot`: the folder listings plus each container's live log (the recording
 * host keeps only its tail), so `nodedoc logs --from` has something to show.
 */
export async function gatherLogsForSnapshot(host: Host): Promise<PodLogs[]> {
  const pods = await gatherPodLogs(host)
  for (const pod of pods) {
    for (const container of pod.containers) {
      for (const file of container.files) if (file.rotatedAt === null) await host.readFile(file.path)
    }
  }
  return pods
}
