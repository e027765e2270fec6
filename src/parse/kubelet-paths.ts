// Paths the kubelet writes, read back into who they belong to.

export interface PodLogDir {
  namespace: string | null
  name: string | null
  uid: string
}

const UID = '([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})'
const POD_LOG_DIR = new RegExp(`^([^_]+)_([^_]+)_${UID}$`)
const OLD_POD_LOG_DIR = new RegExp(`^${UID}$`)

/** A /var/log/pods entry: "<ns>_<name>_<uid>", or the old bare "<uid>". */
export function parsePodLogDirName(name: string): PodLogDir | undefined {
  const match = POD_LOG_DIR.exec(name)
  if (match) return {namespace: match[1], name: match[2], uid: match[3]}
  const old = OLD_POD_LOG_DIR.exec(name)
  return old ? {namespace: null, name: null, uid: old[1]} : undefined
}

/** "<restart>.log" -> restart; rotated and compressed files are not the current log. */
export function parseContainerLogFileName(name: string): number | undefined {
  const match = /^(\d+)\.log$/.exec(name)
  return match ? Number(match[1]) : undefined
}

export interface ContainerLogLink {
  pod: string
  namespace: string
  container: string
  containerId: string
}

/** /var/log/containers/<pod>_<ns>_<container>-<64 hex id>.log */
export function parseContainerLogLinkName(name: string): ContainerLogLink | undefined {
  const match = /^([^_]+)_([^_]+)_(.+)-([0-9a-f]{64})\.log$/.exec(name)
  return match ? {pod: match[1], namespace: match[2], container: match[3], containerId: match[4]} : undefined
}

export interface KubeletVolume {
  podUid: string
  /** "kubernetes.io/projected" (the "~" in the directory name is the "/") */
  plugin: string
  name: string
}

// the kubelet root is /var/lib/kubelet by default but may be anywhere (--root-dir)
const VOLUME = new RegExp(`/pods/${UID}/volumes/([^/]+)/([^/]+)`)
const SUBPATH = new RegExp(`/pods/${UID}/volume-subpaths/([^/]+)/`)

/** A host path under <kubelet root>/pods/<uid>/volumes/<plugin>/<volume>[/...]. */
export function parseKubeletVolumePath(path: string): KubeletVolume | undefined {
  const match = VOLUME.exec(path)
  if (match) return {podUid: match[1], plugin: match[2].replace('~', '/'), name: match[3]}
  const subpath = SUBPATH.exec(path)
  return subpath ? {podUid: subpath[1], plugin: 'subPath', name: subpath[2]} : undefined
}
