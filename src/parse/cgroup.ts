export type QosClass = 'Guaranteed' | 'Burstable' | 'BestEffort'
export type Runtime = 'containerd' | 'cri-o' | 'docker' | 'unknown'
// mismatch: a systemd-style cgroupsPath ("slice:prefix:id") realised by a cgroupfs manager
export type CgroupDriver = 'cgroupfs' | 'systemd' | 'mismatch' | 'unknown'

/** One line of /proc/<pid>/cgroup: "hierarchy-ID:controller-list:cgroup-path". */
export interface ProcCgroupEntry {
  hierarchyId: number
  controllers: string[]
  path: string
}

// Tolerates decorated lines (a log prefix before the entry); the path runs to the end of the line.
const ENTRY = /(?:^|\s)(\d+):([^:\s]*):(\/.*?)\s*$/

export function parseProcCgroup(text: string): ProcCgroupEntry[] {
  const entries: ProcCgroupEntry[] = []
  for (const line of text.split('\n')) {
    const match = ENTRY.exec(line)
    if (!match) continue
    entries.push({hierarchyId: Number(match[1]), controllers: match[2] ? match[2].split(',') : [], path: match[3]})
  }
  return entries
}

export function cgroupVersionOf(entries: ProcCgroupEntry[]): 1 | 2 | null {
  if (entries.length === 0) return null
  return entries.some((e) => e.hierarchyId !== 0) ? 1 : 2
}

/** What a kubelet/runtime cgroup path says about the process in it. */
export interface CgroupIdentity {
  podUid: string | null
  containerId: string | null
  qosClass: QosClass | null
  driver: CgroupDriver | null
  runtime: Runtime | null
  /** the path up to and including the pod's cgroup */
  podPath: string | null
  /** CRI-O's conmon monitor, not a container process */
  conmon: boolean
}

const UID_DASHED = '[0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12}'
// static pods carry a 32-hex config hash as their UID
const UID = `(${UID_DASHED}|[0-9a-f]{32})`
const CGROUPFS_POD = new RegExp(`^pod${UID}$`)
const SYSTEMD_POD = new RegExp(`^(?:[a-z]+-)*kubepods(?:-(besteffort|burstable))?-pod${UID}\\.slice(?::([a-z-]+):([0-9a-f]{64}))?$`)
const SCOPE = /^(cri-containerd|crio-conmon|crio|docker)-([0-9a-f]{64})\.scope$/
const CGROUPFS_CONTAINER = /^(?:(crio)-)?([0-9a-f]{64})$/
const COLON_PREFIX: Record<string, Runtime> = {'cri-containerd': 'containerd', crio: 'cri-o', docker: 'docker'}

function normaliseUid(raw: string): string {
  return raw.replace(/_/g, '-')
}

function runtimeOfPrefix(prefix: string): Runtime {
  if (prefix === 'cri-containerd') return 'containerd'
  if (prefix === 'crio' || prefix === 'crio-conmon') return 'cri-o'
  return 'docker'
}

/**
 * Reads pod UID, container ID, QoS class, driver and runtime off a cgroup path, in every form
 * the kubelet and runtimes write: cgroupfs (/kubepods/burstable/pod<uid>/<id>), systemd slices
 * (kubepods-burstable-pod<uid_>.slice/cri-containerd-<id>.scope), the raw "slice:prefix:id" form,
 * kind's kubelet.slice nesting, and namespace-relative v2 paths ("/../../kubepods-...").
 */
export function identifyCgroupPath(path: string): CgroupIdentity {
  const identity: CgroupIdentity = {podUid: null, containerId: null, qosClass: null, driver: null, runtime: null, podPath: null, conmon: false}
  const segments = path.split('/').filter((s) => s !== '' && s !== '.')
  let podIndex = -1
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]
    const cgroupfs = CGROUPFS_POD.exec(segment)
    if (cgroupfs) {
      podIndex = i
      identity.podUid = normaliseUid(cgroupfs[1])
      identity.driver = 'cgroupfs'
      const parent = segments[i - 1]
      identity.qosClass = parent === 'besteffort' ? 'BestEffort' : parent === 'burstable' ? 'Burstable' : 'Guaranteed'
      break
    }
    const systemd = SYSTEMD_POD.exec(segment)
    if (systemd) {
      podIndex = i
      identity.podUid = normaliseUid(systemd[2])
      identity.qosClass = systemd[1] === 'besteffort' ? 'BestEffort' : systemd[1] === 'burstable' ? 'Burstable' : 'Guaranteed'
      if (systemd[3]) {
        identity.driver = 'mismatch'
        identity.runtime = COLON_PREFIX[systemd[3]] ?? 'unknown'
        identity.containerId = systemd[4]
      } else identity.driver = 'systemd'
      break
    }
  }
  if (podIndex >= 0) identity.podPath = '/' + segments.slice(0, podIndex + 1).join('/')
  if (identity.containerId) return identity

  // the container is the segment after the pod; without a pod (plain docker), the last segment
  const candidate = podIndex >= 0 ? segments[podIndex + 1] : segments.at(-1)
  if (!candidate) return identity
  const scope = SCOPE.exec(candidate)
  if (scope) {
    identity.containerId = scope[2]
    identity.runtime = runtimeOfPrefix(scope[1])
    identity.conmon = scope[1] === 'crio-conmon'
    identity.driver ??= 'systemd'
    return identity
  }
  const bare = CGROUPFS_CONTAINER.exec(candidate)
  if (bare && podIndex >= 0) {
    identity.containerId = bare[2]
    // a bare ID is what both containerd and docker write with cgroupfs: the path cannot tell them apart
    identity.runtime = bare[1] ? 'cri-o' : 'unknown'
  }
  return identity
}

/** The identity of a process from all its cgroup lines: the first line that names a pod wins. */
export function identifyProcCgroup(entries: ProcCgroupEntry[]): CgroupIdentity & {version: 1 | 2 | null} {
  // cgroup v1 lists a line per hierarchy, mostly all with one path: each path identified once
  const byPath = new Map<string, CgroupIdentity>()
  const identities = entries.map((e) => {
    let identity = byPath.get(e.path)
    if (!identity) byPath.set(e.path, (identity = identifyCgroupPath(e.path)))
    return identity
  })
  const best = identities.find((i) => i.podUid && i.containerId) ?? identities.find((i) => i.podUid) ?? identities.find((i) => i.containerId) ?? identifyCgroupPath('/')
  return {...best, version: cgroupVersionOf(entries)}
}
