import type {Host} from '../host/host.js'
import {hostPath, resolveLinkTarget} from '../host/host.js'
import {CONTAINER_LOG_LINKS, POD_LOG_ROOT, gatherPodLogs} from '../logs/gather.js'
import {type ContainerLogLink, type PodLogDirName, type PodLogs, parseContainerLogLinkName, parsePodLogDirName} from '../parse/log-files.js'

export interface ContainerLogIndex {
  /** /var/log/pods, both layouts, every file with its restart and size */
  pods: PodLogs[]
  /** /var/log/containers links, with the file each points at */
  links: Array<ContainerLogLink & {link: string; target: string | null}>
}

/** Which pod's logs to read: by UID (and, for the links, by name). Absent: every pod's. */
export interface LogScope {
  uid: string
  namespace: string | null
  name: string | null
}

/** /var/log/pods and /var/log/containers, as the kubelet lays them out. */
export async function readLogIndex(host: Host, scope?: LogScope): Promise<ContainerLogIndex> {
  const pods = await gatherPodLogs(host, (dir) => !scope || dir.uid === scope.uid)
  const links: ContainerLogIndex['links'] = []
  for (const entry of (await host.readDir(CONTAINER_LOG_LINKS)) ?? []) {
    const parsed = parseContainerLogLinkName(entry.name)
    if (!parsed || (scope && (parsed.pod !== scope.name || parsed.namespace !== scope.namespace))) continue
    const link = hostPath(CONTAINER_LOG_LINKS, entry.name)
    const target = entry.kind === 'link' ? await host.readLink(link) : undefined
    links.push({...parsed, link, target: target ? resolveLinkTarget(link, target) : null})
  }
  return {pods, links}
}

/** The pod log folder names alone: who has logs here, without reading any folder. */
export async function listPodLogDirs(host: Host): Promise<PodLogDirName[]> {
  const dirs: PodLogDirName[] = []
  for (const entry of (await host.readDir(POD_LOG_ROOT)) ?? []) {
    const dir = entry.kind === 'dir' ? parsePodLogDirName(entry.name) : null
    if (dir) dirs.push(dir)
  }
  return dirs
}
