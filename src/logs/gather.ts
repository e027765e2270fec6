import {type Host, hostPath} from '../host/host.js'
import {type ListedFile, type PodLogDirName, type PodLogListing, type PodLogs, parseContainerLogLinkName, parsePodLogDirName, podLogsFromListing} from '../parse/log-files.js'

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
