// /proc/<pid>/mountinfo (proc(5)): one mount per line,
// "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue"

export interface MountinfoEntry {
  mountId: number
  parentId: number
  /** "major:minor" of the filesystem */
  device: string
  /** the path inside that filesystem that is mounted here: the host path of a bind mount, relative to its filesystem */
  root: string
  mountPoint: string
  options: string[]
  /** shared:N, master:N, propagate_from:N, unbindable */
  optionalFields: string[]
  fsType: string
  source: string
  superOptions: string[]
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescape(value: string): string {
  return value.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)))
}

export function parseMountinfoLine(line: string): MountinfoEntry | undefined {
  const fields = line.trim().split(' ')
  const dash = fields.indexOf('-', 6)
  if (fields.length < 10 || dash < 0 || fields.length < dash + 3) return undefined
  const mountId = Number(fields[0])
  const parentId = Number(fields[1])
  if (!Number.isInteger(mountId) || !Number.isInteger(parentId) || !/^\d+:\d+$/.test(fields[2])) return undefined
  return {
    mountId,
    parentId,
    device: fields[2],
    root: unescape(fields[3]),
    mountPoint: unescape(fields[4]),
    options: fields[5].split(','),
    optionalFields: fields.slice(6, dash),
    fsType: fields[dash + 1],
    source: unescape(fields[dash + 2]),
    superOptions: (fields[dash + 3] ?? '').split(',').filter(Boolean),
  }
}

/** Unparseable lines are returned as "bad" so the caller can warn once; the rest still count. */
export function parseMountinfo(text: string): {mounts: MountinfoEntry[]; bad: number} {
  const mounts: MountinfoEntry[] = []
  let bad = 0
  for (const line of text.split('\n')) {
    if (!line.trim()) continue
    const entry = parseMountinfoLine(line)
    if (entry) mounts.push(entry)
    else bad++
  }
  return {mounts, bad}
}

export function isReadOnly(mount: MountinfoEntry): boolean {
  return mount.options.includes('ro')
}

/** shared / slave / private / unbindable, as mount(8) names them. */
export function propagation(mount: MountinfoEntry): string {
  const kinds: string[] = []
  if (mount.optionalFields.some((f) => f.startsWith('shared:'))) kinds.push('shared')
  if (mount.optionalFields.some((f) => f.startsWith('master:'))) kinds.push('slave')
  if (mount.optionalFields.includes('unbindable')) kinds.push('unbindable')
  return kinds.length ? kinds.join(',') : 'private'
}

export interface OverlayLayers {
  upperDir: string | null
  lowerDirs: string[]
  workDir: string | null
}

export function overlayLayers(mount: MountinfoEntry): OverlayLayers | undefined {
  if (mount.fsType !== 'overlay') return undefined
  const get = (key: string) => mount.superOptions.find((o) => o.startsWith(key + '='))?.slice(key.length + 1) ?? null
  return {upperDir: get('upperdir'), lowerDirs: (get('lowerdir') ?? '').split(':').filter(Boolean), workDir: get('workdir')}
}

/**
 * The host path behind a mount: the host mount of the same filesystem whose root contains this
 * mount's root, joined with the rest. A bind of /var/lib/kubelet/pods/x/etc-hosts shows root
 * "/lib/kubelet/pods/x/etc-hosts" when /var is its own filesystem; the host's mount of that
 * device at /var turns it back into the full path.
 */
export function hostSourceOf(mount: MountinfoEntry, hostMounts: MountinfoEntry[]): string | null {
  let best: MountinfoEntry | undefined
  for (const candidate of hostMounts) {
    if (candidate.device !== mount.device) continue
    const prefix = candidate.root === '/' ? '/' : candidate.root + '/'
    if (mount.root !== candidate.root && !mount.root.startsWith(prefix)) continue
    if (!best || candidate.root.length > best.root.length) best = candidate
  }
  if (!best) return null
  const rest = mount.root.slice(best.root === '/' ? 0 : best.root.length)
  const joined = (best.mountPoint === '/' ? '' : best.mountPoint) + (rest.startsWith('/') ? rest : '/' + rest)
  return joined === '' ? '/' : joined.replace(/\/$/, '') || '/'
}

/** What a container's own mountinfo says about who it is (when cgroup files alone do not). */
export interface MountinfoIdentity {
  podUid: string | null
  containerName: string | null
  sandboxId: string | null
  containerId: string | null
  runtime: 'containerd' | 'cri-o' | 'docker' | null
}

// the kubelet root is usually /var/lib/kubelet, but may be anywhere (k3s in docker: a docker volume's _data)
const KUBELET_POD = /\/pods\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})\/(?:etc-hosts|containers|volumes|volume-subpaths|plugins)\b/
const TERMINATION_LOG = /\/pods\/[0-9a-f-]{32,36}\/containers\/([^/]+)\//
const SANDBOX_DIRS: Array<[RegExp, MountinfoIdentity['runtime']]> = [
  [/io\.containerd\.grpc\.v1\.cri\/sandboxes\/([0-9a-f]{64})\//, 'containerd'],
  [/\/containers\/storage\/[a-z0-9]+-containers\/([0-9a-f]{64})\/userdata\//, 'cri-o'],
  [/\/docker\/containers\/([0-9a-f]{64})\//, 'docker'],
]

export function identifyFromMountinfo(mounts: MountinfoEntry[], containerIdFromCgroupRoot: (root: string) => string | null): MountinfoIdentity {
  const id: MountinfoIdentity = {podUid: null, containerName: null, sandboxId: null, containerId: null, runtime: null}
  for (const m of mounts) {
    const where = m.root
    id.podUid ??= KUBELET_POD.exec(where)?.[1] ?? null
    id.containerName ??= TERMINATION_LOG.exec(where)?.[1] ?? null
    for (const [pattern, runtime] of SANDBOX_DIRS) {
      const match = pattern.exec(where)
      if (match && !id.sandboxId) {
        id.sandboxId = match[1]
        id.runtime = runtime
      }
    }
    if (m.fsType === 'cgroup' || m.fsType === 'cgroup2') id.containerId ??= containerIdFromCgroupRoot(m.root)
    if (!id.runtime && m.fsType === 'overlay') {
      const layers = m.superOptions.join(',')
      if (layers.includes('io.containerd.snapshotter')) id.runtime = 'containerd'
      else if (layers.includes('/docker/')) id.runtime = 'docker'
      else if (layers.includes('/containers/storage/')) id.runtime = 'cri-o'
    }
  }
  return id
}
