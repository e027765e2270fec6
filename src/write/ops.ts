// The vocabulary of changes nodedoc makes to a machine: what a sandbox plan asks for (Op),
// how each change is taken back (Undo), and the interface that carries them out. The plan
// (src/sandbox/plan.ts) is data in these words; src/write/sandbox-ops.ts does them.

export type RootfsSource =
  | {kind: 'dir'; path: string}
  | {kind: 'busybox'; binary: string; applets: string[]}
  | {kind: 'host'; files: Array<{source: string; dest: string}>}
  /** busybox-static as one layer shared by every sandbox: <layers>/busybox-<sha256 of the binary> */
  | {kind: 'layer'; dir: string; binary: string; digest: string; statKey?: string}

export type Op =
  /**
   * `like`: a folder this one stands over (a mount point in the overlay's upper layer, over the
   * image's folder of the same name): when that is a folder, the new one gets its mode and owner,
   * as overlayfs's copy-up would give it.
   */
  | {kind: 'mkdir'; path: string; exclusive?: boolean; like?: string}
  | {kind: 'rmdir'; path: string}
  | {kind: 'write'; path: string; content: string}
  | {kind: 'symlink'; target: string; path: string}
  | {kind: 'lease'; path: string; content: string}
  | {kind: 'rootfs'; dir: string; source: RootfsSource}
  | {kind: 'run'; argv: string[]; stdin?: string}
  /**
   * `ready`: the held process's comm once its chain has set up (its last exec): until then it
   * may still be in the host's namespaces (unshare has not unshared, nor made its mounts private).
   */
  | {kind: 'spawnPause'; argv: string[]; gated: 'self' | 'child'; ready: string; before?: PauseBefore}
  /** `shim`: the container's parent, a link to sh named so that its forks are told from the gate's shell. */
  | {kind: 'startContainer'; container: string; chain: string[]; env: Record<string, string>; gated: 'self' | 'child'; ready: string; logPath: string; stateDir: string; shim: string}
  | {kind: 'joinCgroup'; ref: string; dirs: string[]}
  | {kind: 'oomScoreAdj'; ref: string; value: number}
  | {kind: 'release'; container: string}

/**
 * What the pause's shell runs before it execs the pause (the pod's shm mount): the program, so
 * that a failure is told by its own message ("mount: ..."), and the words naming it in the error.
 */
export interface PauseBefore {
  program: string
  what: string
}

export type Undo =
  | {kind: 'removeTree'; path: string}
  | {kind: 'rmdirIfEmpty'; path: string}
  | {kind: 'unlink'; path: string}
  | {kind: 'run'; argv: string[]}
  | {kind: 'umount'; path: string}
  | {kind: 'kill'; ref: string}
  | {kind: 'cgroupTree'; path: string}
  | {kind: 'cgroupRmdirIfEmpty'; path: string}

export interface ProcessMark {
  pid: number
  /** /proc/<pid>/stat field 22: tells a recycled PID from ours. */
  startTime: number
}

export interface ApplyResult {
  /** Processes the step started, by reference ("pause", "ctr:app", "shim:app", "logger:app"). */
  processes?: Record<string, ProcessMark>
}

export interface SandboxOps {
  apply(op: Op, processes: Record<string, ProcessMark>): Promise<ApplyResult | void>
  /** Best effort and idempotent: something already gone is not a problem. Returns problems seen. */
  undo(undo: Undo, processes: Record<string, ProcessMark>): Promise<string[]>
  /** Writes the state file (every artifact, as its undo, before it is made). */
  saveState(state: object): Promise<void>
}
