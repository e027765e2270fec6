// The kernel's own record of OOM kills, from `dmesg`: it outlives the cgroup the process was in
// (a runtime removes a dead container's cgroup, and with it memory.oom_control's count).

export interface OomKill {
  /** seconds since boot, as dmesg prints them; null when the line has no time stamp */
  uptimeSeconds: number | null
  /** the memory cgroup whose limit was hit */
  oomMemcg: string | null
  /** the cgroup of the process killed */
  taskMemcg: string | null
  task: string
  pid: number
}

const OOM_LINE = /^(?:\[\s*(\d+\.\d+)\]\s*)?oom-kill:(.*)$/

/** One entry per `oom-kill:constraint=...,oom_memcg=...,task_memcg=...,task=...,pid=...` line (kernels since 4.19). */
export function parseOomKills(text: string): OomKill[] {
  const out: OomKill[] = []
  for (const line of text.split('\n')) {
    const m = OOM_LINE.exec(line.trim())
    if (!m) continue
    const fields = new Map<string, string>()
    for (const part of m[2].split(',')) {
      const eq = part.indexOf('=')
      if (eq > 0) fields.set(part.slice(0, eq), part.slice(eq + 1))
    }
    const pid = Number(fields.get('pid'))
    if (!fields.has('task') || !Number.isInteger(pid)) continue
    out.push({
      uptimeSeconds: m[1] ? Number(m[1]) : null,
      oomMemcg: fields.get('oom_memcg') ?? null,
      taskMemcg: fields.get('task_memcg') ?? null,
      task: fields.get('task')!,
      pid,
    })
  }
  return out
}
