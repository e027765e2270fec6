// One pod as each layer sees it, in the same shape so rows compare by equality: what the spec
// implies on this node (spec.ts), what the runtime was told (its config.json) and what the kernel
// shows (gather.ts). Values are strings; null = this layer cannot say.

export const POD_ROWS = ['qos', 'network', 'memory limit', 'cpu.shares', 'cpu quota'] as const
export const CONTAINER_ROWS = [
  'net ns', 'ipc ns', 'uts ns', 'pid ns', 'mnt ns', 'command', 'memory limit', 'cpu.shares', 'cpu quota', 'oom_score_adj',
  'capabilities', 'no_new_privs', 'seccomp', 'user', 'masked paths', 'read-only paths',
] as const
export type PodRow = (typeof POD_ROWS)[number]
export type ContainerRow = (typeof CONTAINER_ROWS)[number]
export type Value = string | null

export interface LayerContainer {
  name: string
  rows: Record<ContainerRow, Value>
  /** destination -> "rw" | "ro"; null when the layer cannot list mounts */
  mounts: Record<string, string> | null
}

export interface LayerPod {
  rows: Record<PodRow, Value>
  containers: LayerContainer[]
}

/** The spec layer also says where each expectation comes from. */
export interface SpecContainer extends LayerContainer {
  mounts: Record<string, string>
  why: Partial<Record<ContainerRow, string>>
  mountWhy: Record<string, string>
  /** mounts that may rightly be absent, with the reason */
  optionalMounts: Record<string, string>
}

export interface SpecPod extends LayerPod {
  why: Partial<Record<PodRow, string>>
  containers: SpecContainer[]
}

export const unlimited = (v: number | null | undefined): string => (v === null || v === undefined ? 'unlimited' : String(v))

/**
 * A capability set as words relative to the runtime's default set: "default", "none", "all",
 * else the names added and dropped ("default +sys_admin -net_raw"), or the names themselves when
 * that is shorter. Both sides of a row are described the same way, so equal sets read equal.
 */
export function describeCapabilities(set: Set<string> | 'all', defaults: string[], all: string[]): string {
  if (set === 'all' || all.every((c) => set.has(c))) return 'all'
  if (set.size === 0) return 'none'
  const added = [...set].filter((c) => !defaults.includes(c)).sort()
  const dropped = defaults.filter((c) => !set.has(c)).sort()
  if (added.length === 0 && dropped.length === 0) return 'default'
  if (added.length + dropped.length < set.size) return ['default', ...added.map((c) => `+${c}`), ...dropped.map((c) => `-${c}`)].join(' ')
  return [...set].sort().join(',')
}

/**
 * Which of the required paths a layer masks (or makes read-only): "default" when all of them,
 * "none" when none, else the missing ones. Paths beyond the list (a newer kubelet's) are fine.
 */
export function describePaths(seen: Set<string>, required: string[]): string {
  const missing = required.filter((p) => !seen.has(p))
  if (missing.length === 0) return 'default'
  if (missing.length === required.length) return 'none'
  return `missing ${missing.join(',')}`
}
