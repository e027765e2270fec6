// Names the kubelet gives pod log folders and files, turned into records. Pure: listings in,
// records out; src/logs/gather.ts does the reading.
//   /var/log/pods/<namespace>_<pod>_<uid>/<container>/<restart>.log        (kubelet >= 1.14)
//   /var/log/pods/<namespace>_<pod>_<uid>/<container>/<restart>.log.<20060102-150405>[.gz]  rotated
//   /var/log/pods/<uid>/<container>_<restart>.log                          (older kubelets)
//   /var/log/containers/<pod>_<namespace>_<container>-<64 hex id>.log     links into the above

import {byteOrder} from './order.js'

export interface PodLogDirName {
  namespace: string | null
  name: string | null
  uid: string
  layout: 'current' | 'legacy'
}

export interface LogFileName {
  restart: number
  /** The kubelet's rotation stamp "20060102-150405" (local time of the kubelet), null for the live file. */
  rotatedAt: string | null
  compressed: boolean
}

/** Pod UIDs are RFC 4122 UUIDs, except static pods, whose UID is a 32-hex hash of the manifest. */
const UID_RE = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})$/

/** `<ns>_<name>_<uid>` or (older kubelets) a bare `<uid>`. Neither a namespace nor a pod name can hold "_". */
export function parsePodLogDirName(dirName: string): PodLogDirName | null {
  const parts = dirName.split('_')
  if (parts.length === 3 && parts.every(Boolean)) return {namespace: parts[0], name: parts[1], uid: parts[2], layout: 'current'}
  if (parts.length === 1 && UID_RE.test(dirName)) return {namespace: null, name: null, uid: dirName, layout: 'legacy'}
  return null
}

const FILE_RE = /^(\d+)\.log(?:\.(\d{8}-\d{6}))?(\.gz)?$/

/**
 * `<restart>.log`, `<restart>.log.<stamp>`, `<restart>.log.<stamp>.gz`. null for anything else,
 * including `.tmp` (a rotated file the kubelet is compressing right now: its `.gz` follows).
 */
export function parseLogFileName(fileName: string): LogFileName | null {
  const m = FILE_RE.exec(fileName)
  if (!m) return null
  if (m[3] && !m[2]) return null
  return {restart: Number(m[1]), rotatedAt: m[2] ?? null, compressed: Boolean(m[3])}
}

/** Older kubelets: `<container>_<restart>.log[...]` directly in the pod folder. Container names hold no "_". */
export function parseLegacyLogFileName(fileName: string): (LogFileName & {container: string}) | null {
  const cut = fileName.indexOf('_')
  if (cut <= 0) return null
  const rest = parseLogFileName(fileName.slice(cut + 1))
  return rest ? {container: fileName.slice(0, cut), ...rest} : null
}

export interface ContainerLogLink {
  pod: string
  namespace: string
  container: string
  containerId: string
}

const LINK_RE = /^([^_]+)_([^_]+)_(.+)-([0-9a-f]{64})\.log$/

/** A /var/log/containers link name; null when it does not fit (names are cut at 255 bytes). */
export function parseContainerLogLinkName(linkName: string): ContainerLogLink | null {
  const m = LINK_RE.exec(linkName)
  return m ? {pod: m[1], namespace: m[2], container: m[3], containerId: m[4]} : null
}

/** What gather saw in one pod log folder. */
export interface PodLogListing {
  dirName: string
  /** Sub-folders (current layout): container name -> its files. */
  containers: Array<{name: string; files: ListedFile[]}>
  /** Files directly in the pod folder (legacy layout). */
  files: ListedFile[]
}

export interface ListedFile {
  name: string
  sizeBytes: number
  mtimeMs: number
}

export interface PodLogFile extends LogFileName {
  path: string
  sizeBytes: number
  mtimeMs: number
}

export interface ContainerLogs {
  name: string
  /** Oldest first: by restart, then rotated files by stamp, then the live file. */
  files: PodLogFile[]
}

export interface PodLogs extends PodLogDirName {
  path: string
  containers: ContainerLogs[]
}

/** Oldest first: lower restart first; within one restart, rotated files by stamp, the live file last. */
export function compareLogFiles(a: LogFileName, b: LogFileName): number {
  if (a.restart !== b.restart) return a.restart - b.restart
  if (a.rotatedAt === b.rotatedAt) return Number(a.compressed) - Number(b.compressed)
  if (a.rotatedAt === null) return 1
  if (b.rotatedAt === null) return -1
  return a.rotatedAt < b.rotatedAt ? -1 : 1
}

/**
 * Pod log folders from listings of /var/log/pods (root). Folders that fit no layout are left
 * out; legacy folders get their pod name from `names` (uid -> /var/log/containers link) when known.
 */
export function podLogsFromListing(root: string, listings: PodLogListing[], names: Map<string, {namespace: string; name: string}> = new Map()): PodLogs[] {
  const pods: PodLogs[] = []
  for (const listing of listings) {
    const dir = parsePodLogDirName(listing.dirName)
    if (!dir) continue
    const path = `${root}/${listing.dirName}`
    const byContainer = new Map<string, PodLogFile[]>()
    const add = (container: string, file: PodLogFile) => {
      const list = byContainer.get(container) ?? []
      list.push(file)
      byContainer.set(container, list)
    }
    for (const container of listing.containers) {
      byContainer.set(container.name, byContainer.get(container.name) ?? [])
      for (const f of container.files) {
        const name = parseLogFileName(f.name)
        if (name) add(container.name, {...name, path: `${path}/${container.name}/${f.name}`, sizeBytes: f.sizeBytes, mtimeMs: f.mtimeMs})
      }
    }
    for (const f of listing.files) {
      const name = parseLegacyLogFileName(f.name)
      if (!name) continue
      const {container, ...rest} = name
      add(container, {...rest, path: `${path}/${f.name}`, sizeBytes: f.sizeBytes, mtimeMs: f.mtimeMs})
    }
    const known = dir.layout === 'legacy' ? names.get(dir.uid) : undefined
    pods.push({
      ...dir,
      namespace: dir.namespace ?? known?.namespace ?? null,
      name: dir.name ?? known?.name ?? null,
      path,
      containers: [...byContainer.entries()]
        .map(([name, files]) => ({name, files: files.sort(compareLogFiles)}))
        .sort((a, b) => byteOrder(a.name, b.name)),
    })
  }
  return pods.sort((a, b) => byteOrder(`${a.namespace}/${a.name}/${a.uid}`, `${b.namespace}/${b.name}/${b.uid}`))
}

/** Restart counts that have files, ascending. */
export function restartsOf(container: ContainerLogs): number[] {
  return [...new Set(container.files.map((f) => f.restart))].sort((a, b) => a - b)
}

/**
 * The files of one container instance: the newest restart, or with previous the one before it
 * (kubectl logs --previous). undefined when there is no such instance.
 */
export function instanceFiles(container: ContainerLogs, previous: boolean): {restart: number; files: PodLogFile[]} | undefined {
  const restarts = restartsOf(container)
  const restart = restarts.at(previous ? -2 : -1)
  if (restart === undefined) return undefined
  return {restart, files: container.files.filter((f) => f.restart === restart)}
}
