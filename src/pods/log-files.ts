import {type Host, hostPath, resolveLinkTarget} from '../host/host.js'
import {
  type ContainerLogLink, type ListedFile, type PodLogDirName, type PodLogListing, type PodLogs,
  parseContainerLogLinkName, parsePodLogDirName, podLogsFromListing,
} from '../parse/log-files.js'

export const POD_LOG_ROOT = '/var/log/pods'
export const CONTAINER_LOG_LINKS = '/var/log/containers'

async function listFiles(host: Host, dir: string): Promise<ListedFile[]> {
  const entries = (await host.readDir(dir)) ?? []
  const files: ListedFile[] = []
  for (const entry of entries) {
    if (entry.kind !== 'file') continue
    // a file rotated away between the listing and the stat is normal: skip it
    const s = await host.stat(hostPath(dir, entry.name))
    if (s) files.push({name: entry.name, sizeBytes: s.size, mtimeMs: s.mtimeMs})
  }
  return files
}

/** Every pod log folder under /var/log/pods (or those `keep` picks) with its containers' files, oldest first. */
export async function gatherPodLogs(host: Host, keep: (dir: PodLogDirName) => boolean = () => true): Promise<PodLogs[]> {
  const listings: PodLogListing[] = []
  let legacy = false
  for (const entry of (await host.readDir(POD_LOG_ROOT)) ?? []) {
    if (entry.kind !== 'dir') continue
    const dirName = parsePodLogDirName(entry.name)
    if (!dirName || !keep(dirName)) continue
    legacy ||= dirName.layout === 'legacy'
    const podDir = hostPath(POD_LOG_ROOT, entry.name)
    const containers: PodLogListing['containers'] = []
    for (const sub of (await host.readDir(podDir)) ?? []) {
      if (sub.kind === 'dir') containers.push({name: sub.name, files: await listFiles(host, hostPath(podDir, sub.name))})
    }
    listings.push({dirName: entry.name, containers, files: dirName.layout === 'legacy' ? await listFiles(host, podDir) : []})
  }
  return podLogsFromListing(POD_LOG_ROOT, listings, legacy ? await legacyNames(host) : new Map())
}

/** Older kubelets name pod folders by UID alone; the /var/log/containers links still say which pod. */
async function legacyNames(host: Host): Promise<Map<string, {namespace: string; name: string}>> {
  const names = new Map<string, {namespace: string; name: string}>()
  for (const entry of (await host.readDir(CONTAINER_LOG_LINKS)) ?? []) {
    if (entry.kind !== 'link') continue
    const link = parseContainerLogLinkName(entry.name)
    const target = link && (await host.readLink(hostPath(CONTAINER_LOG_LINKS, entry.name)))
    const uid = target ? /\/var\/log\/pods\/([^/_]+)\//.exec(target)?.[1] : undefined
    if (link && uid) names.set(uid, {namespace: link.namespace, name: link.pod})
  }
  return names
}

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

/**
 * The names alone, for joining pods and containers (ps): each pod log folder without its
 * files, and the /var/log/containers links without their targets. Two folder listings instead
 * of a listing and a stat per log file and a readlink per link.
 */
export async function readLogNames(host: Host): Promise<ContainerLogIndex> {
  const listings: PodLogListing[] = []
  let legacy = false
  for (const entry of (await host.readDir(POD_LOG_ROOT)) ?? []) {
    const dirName = entry.kind === 'dir' ? parsePodLogDirName(entry.name) : null
    if (!dirName) continue
    legacy ||= dirName.layout === 'legacy'
    listings.push({dirName: entry.name, containers: [], files: []})
  }
  const pods = podLogsFromListing(POD_LOG_ROOT, listings, legacy ? await legacyNames(host) : new Map())
  const links: ContainerLogIndex['links'] = []
  for (const entry of (await host.readDir(CONTAINER_LOG_LINKS)) ?? []) {
    const parsed = parseContainerLogLinkName(entry.name)
    if (parsed) links.push({...parsed, link: hostPath(CONTAINER_LOG_LINKS, entry.name), target: null})
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
