// What a runtime wrote down about a container's last run, on disk: containerd's CRI plugin keeps
// <root>/io.containerd.grpc.v1.cri/containers/<id>/status (JSON), CRI-O an exits/<id> file.

export interface ContainerExit {
  pid: number | null
  /** null while it runs (containerd writes FinishedAt 0) */
  exitCode: number | null
  /** "OOMKilled", "Error", "Completed"; containerd sets OOMKilled as soon as the cgroup sees an OOM kill */
  reason: string | null
  message: string | null
  startedAt: string | null
  finishedAt: string | null
}

function nanosToIso(value: unknown): string | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN
  return Number.isFinite(n) && n > 0 ? new Date(Math.floor(n / 1e6)).toISOString() : null
}

/** containerd's status file: {"Version":"v1","Pid":..,"StartedAt":ns,"FinishedAt":ns,"ExitCode":..,"Reason":"..",...}. */
export function parseContainerdStatus(text: string): ContainerExit {
  const raw = JSON.parse(text) as Record<string, unknown>
  const finishedAt = nanosToIso(raw.FinishedAt)
  const str = (v: unknown) => (typeof v === 'string' && v ? v : null)
  return {
    pid: typeof raw.Pid === 'number' && raw.Pid > 0 ? raw.Pid : null,
    exitCode: finishedAt && typeof raw.ExitCode === 'number' ? raw.ExitCode : null,
    reason: str(raw.Reason),
    message: str(raw.Message),
    startedAt: nanosToIso(raw.StartedAt),
    finishedAt,
  }
}

/** CRI-O's exits/<id>: the exit code alone. */
export function parseCrioExit(text: string): number | null {
  const m = /^\s*(-?\d+)\s*$/.exec(text)
  return m ? Number(m[1]) : null
}

/** 128 + signal: what an exit code says about how the process ended. */
export function describeExit(code: number): string {
  if (code === 137) return 'exit 137 (SIGKILL)'
  if (code === 143) return 'exit 143 (SIGTERM)'
  if (code > 128 && code < 160) return `exit ${code} (signal ${code - 128})`
  return `exit ${code}`
}
