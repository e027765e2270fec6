// Paths the kubelet writes under its root dir, read back into who they belong to.
// (Log folder and file names: src/parse/log-files.ts.)

export interface KubeletVolume {
  podUid: string
  /** "kubernetes.io/projected" (the "~" in the directory name is the "/") */
  plugin: string
  name: string
}

// pod UIDs are UUIDs, or a 32-hex manifest hash for static pods
const UID = '([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})'
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
