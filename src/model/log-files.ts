import type {Host} from '../host/host.js'
import {hostPath, resolveLinkTarget} from '../host/host.js'
import {type ContainerLogLink, type PodLogDir, parseContainerLogFileName, parseContainerLogLinkName, parsePodLogDirName} from '../parse/kubelet-paths.js'

export interface PodLogs {
  dir: PodLogDir
  path: string
  /** container name -> its current and earlier log files */
  containers: Map<string, Array<{path: string; restart: number; sizeBytes: number}>>
}

export interface ContainerLogIndex {
  pods: PodLogs[]
  /** /var/log/containers links, with the file each points at */
  links: Array<ContainerLogLink & {link: string; target: string | null}>
}

/** /var/log/pods and /var/log/containers, as the kubelet lays them out. */
export async function readLogIndex(host: Host): Promise<ContainerLogIndex> {
  const pods: PodLogs[] = []
  for (const entry of (await host.readDir('/var/log/pods')) ?? []) {
    const dir = parsePodLogDirName(entry.name)
    if (!dir || entry.kind !== 'dir') continue
    const path = hostPath('/var/log/pods', entry.name)
    const containers = new Map<string, Array<{path: string; restart: number; sizeBytes: number}>>()
    for (const ctr of (await host.readDir(path)) ?? []) {
      if (ctr.kind !== 'dir') continue
      const files: Array<{path: string; restart: number; sizeBytes: number}> = []
      for (const file of (await host.readDir(hostPath(path, ctr.name))) ?? []) {
        const restart = parseContainerLogFileName(file.name)
        if (restart === undefined) continue
        const filePath = hostPath(path, ctr.name, file.name)
        const stat = await host.stat(filePath)
        files.push({path: filePath, restart, sizeBytes: stat?.size ?? 0})
      }
      containers.set(ctr.name, files.sort((a, b) => a.restart - b.restart))
    }
    pods.push({dir, path, containers})
  }
  const links: ContainerLogIndex['links'] = []
  for (const entry of (await host.readDir('/var/log/containers')) ?? []) {
    const parsed = parseContainerLogLinkName(entry.name)
    if (!parsed) continue
    const link = hostPath('/var/log/containers', entry.name)
    const target = entry.kind === 'link' ? await host.readLink(link) : undefined
    links.push({...parsed, link, target: target ? resolveLinkTarget(link, target) : null})
  }
  return {pods, links}
}
