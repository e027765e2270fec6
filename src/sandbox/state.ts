// The sandbox state file, /run/nodedoc/sandboxes/<name>/state.json: what was asked for, what
// the kubelet rules say it should be, and every artifact (as its undo step) written down before
// it is made.

import type {QosClass} from '../pods/types.js'
import type {CgroupLimits} from './kubelet.js'
import type {PodManifest} from './manifest.js'
import type {ProcessMark, Undo} from '../write/ops.js'
import type {Isolation} from './plan.js'

export const STATE_ROOT = '/run/nodedoc/sandboxes'
export const STATE_VERSION = 1

export type Phase = 'creating' | 'running' | 'failed' | 'removing'

/** What `sandbox ls` shows: a state's phase, or `interrupted` for a create whose process is gone (killed mid-create). */
export type ShownPhase = Phase | 'interrupted' | 'broken'

export interface StepRecord {
  index: number
  id: string
  status: 'pending' | 'done'
  undo: Undo | null
}

export interface SandboxState {
  version: number
  name: string
  namespace: string
  podUid: string
  sandboxId: string
  isolation: Isolation
  createdAt: string
  phase: Phase
  /** The `sandbox create` process: while the phase is `creating` and it is gone, the create was killed. */
  creator?: ProcessMark
  manifest: PodManifest
  qos: QosClass
  cgroup: {version: 1 | 2; driver: 'cgroupfs' | 'systemd'; mountRoot: string; controllers: string[]; podPath: string}
  podLimits: CgroupLimits
  /** The image layer (overlay lowerdir; the chroot dir for --isolation chroot). */
  lowerDir: string
  podIp: string | null
  hostVeth: string | null
  containers: Array<{name: string; id: string; argv: string[]; cgroupPath: string; logPath: string; limits: CgroupLimits; oomScoreAdj: number}>
  /** "pause", "ctr:<name>" (the container's first process), "shim:<name>" (its parent), "logger:<name>" (its log writer) */
  processes: Record<string, ProcessMark>
  steps: StepRecord[]
  notes: string[]
}

export function stateDir(root: string, name: string): string {
  return `${root}/${name}`
}

/** Reads state.json text; throws a one-line error when it is not ours. */
export function parseState(text: string, where: string): SandboxState {
  let value: SandboxState
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new Error(`${where}: unreadable sandbox state (${(error as Error).message})`, {cause: error})
  }
  if (!value || typeof value !== 'object' || value.version !== STATE_VERSION || !Array.isArray(value.steps)) {
    throw new Error(`${where}: not a nodedoc sandbox state file (version ${String((value as {version?: unknown})?.version)})`)
  }
  return value
}

/** The undo steps still owed, newest first. */
export function pendingUndo(state: Pick<SandboxState, 'steps'>): Undo[] {
  return [...state.steps].sort((a, b) => b.index - a.index).flatMap((s) => (s.undo ? [s.undo] : []))
}
