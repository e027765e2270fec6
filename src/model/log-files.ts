import type {Host} from '../host/host.js'
import {hostPath, resolveLinkTarget} from '../host/host.js'
import {CONTAINER_LOG_LINKS, gatherPodLogs} from '../logs/gather.js'
import {type ContainerLogLink, type PodLogs, parseContainerLogLinkName} from '../parse/log-files.js'

export interface ContainerLogIndex {
  /** /var/log/pods, both layouts, every file with its restart and size */
  pods: PodLogs[]
  /** /var/log/containers links, with the file each points at */
  links: Array<ContainerLogLink & {link: string; target: string | null}>
}

/** /var/log/pods and /var/log/containers, as the kubelet lays them out. */
export async function readLogIndex(host: Host): Promise<ContainerLogIndex> {
  const pods = await gatherPodLogs(host)
  const links: ContainerLogIndex['links'] = []
  for (const entry of (await host.readDir(CONTAINER_LOG_LINKS)) ?? []) {
    const parsed = parseContainerLogLinkName(entry.name)
    if (!parsed) continue
    const link = hostPath(CONTAINER_LOG_LINKS, entry.name)
    const target = entry.kind === 'link' ? await host.readLink(link) : undefined
    links.push({...parsed, link, target: target ? resolveLinkTarget(link, target) : null})
  }
  return {pods, links}
}
