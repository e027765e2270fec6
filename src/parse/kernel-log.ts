// The kernel log lines that explain what a cgroup's counters say happened, as `dmesg` prints
// them ("[ 4194.209829] text", seconds since boot) or a syslog copy does (a prefix before the
// text, no boot time). Task names come from processes the pod runs: untrusted text.

/** One OOM kill: the kernel's "oom-kill:" summary line and its "Killed process" line, joined on the PID. */
export interface KernelOomKill {
  /** seconds since boot from the dmesg prefix; null for a line without one */
  uptimeSeconds: number | null
  pid: number
  /** the victim's comm */
  task: string | null
  /** the cgroup the victim was in (v1: its memory cgroup) */
  taskMemcg: string | null
  /** the cgroup whose limit was hit: the container's, or the pod's when the pod limit is the tighter */
  oomMemcg: string | null
  /** CONSTRAINT_MEMCG (a cgroup limit) or CONSTRAINT_NONE (the whole node ran out) */
  constraint: string | null
  /** the kernel's own words, for the evidence */
  lines: string[]
}

/** A fork refused because a cgroup's pids.max was reached: the kernel says so once per cgroup. */
export interface KernelForkRejected {
  uptimeSeconds: number | null
  cgroupPath: string
  line: string
}

export interface KernelLogFacts {
  oomKills: KernelOomKill[]
  forkRejections: KernelForkRejected[]
}

// "[ 4194.209829] " as dmesg prints it; "<6>[ 4194.209829] " with the level, as /dev/kmsg readers do
const STAMP = /^(?:<\d+>)?\[\s*(\d+\.\d+)\]\s?/
// oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/kubepods/...,task_memcg=/kubepods/.../<id>,task=tail,pid=21209,uid=0
const OOM_KILL = /oom-kill:(.*),task=(.*),pid=(\d+),uid=\d+\s*$/
// Memory cgroup out of memory: Killed process 21209 (tail) total-vm:206296kB, ...   (kernels >= 5.1)
// Killed process 28438 (java) total-vm:20255636kB, ...                                (older)
const KILLED = /Killed process (\d+) \((.*)\)(?: total-vm:| score |,|$)/
// older kernels name the cgroups on a line of their own before the kill
const TASK_IN = /Task in (\S+) killed as a result of limit of (\S+)/
const FORK_REJECTED = /cgroup: fork rejected by pids controller in (\S+)/
const REPORT_START = / invoked oom-killer: /

function field(summary: string, key: string): string | null {
  const match = new RegExp(`(?:^|,)${key}=([^,]*)`).exec(summary)
  return match ? match[1] : null
}

/** OOM kills and pids-limit refusals in a kernel log; every other line is ignored. */
export function parseKernelLog(text: string): KernelLogFacts {
  const oomKills: KernelOomKill[] = []
  const forkRejections: KernelForkRejected[] = []
  // "Task in X killed" (old kernels) waits for the "Killed process" line that follows it
  let pendingTaskIn: {taskMemcg: string; oomMemcg: string; line: string} | null = null
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd()
    if (line === '') continue
    const stamp = STAMP.exec(line)
    const uptimeSeconds = stamp ? Number(stamp[1]) : null
    const body = stamp ? line.slice(stamp[0].length) : line

    // a new report: a "Task in" line left from a report cut short belongs to no later kill
    if (REPORT_START.test(body)) pendingTaskIn = null
    const summary = OOM_KILL.exec(body)
    if (summary) {
      oomKills.push({
        uptimeSeconds,
        pid: Number(summary[3]),
        task: summary[2],
        taskMemcg: field(summary[1], 'task_memcg'),
        oomMemcg: field(summary[1], 'oom_memcg'),
        constraint: field(summary[1], 'constraint'),
        lines: [line],
      })
      pendingTaskIn = null
      continue
    }
    const taskIn = TASK_IN.exec(body)
    if (taskIn) {
      pendingTaskIn = {taskMemcg: taskIn[1], oomMemcg: taskIn[2], line}
      continue
    }
    const killed = KILLED.exec(body)
    if (killed) {
      const pid = Number(killed[1])
      const known = [...oomKills].reverse().find((k) => k.pid === pid && k.lines.length === 1)
      if (known) {
        known.lines.push(line)
        known.task ??= killed[2]
      } else {
        oomKills.push({
          uptimeSeconds,
          pid,
          task: killed[2],
          taskMemcg: pendingTaskIn?.taskMemcg ?? null,
          oomMemcg: pendingTaskIn?.oomMemcg ?? null,
          constraint: pendingTaskIn ? 'CONSTRAINT_MEMCG' : null,
          lines: pendingTaskIn ? [pendingTaskIn.line, line] : [line],
        })
      }
      pendingTaskIn = null
      continue
    }
    const fork = FORK_REJECTED.exec(body)
    if (fork) forkRejections.push({uptimeSeconds, cgroupPath: fork[1], line})
  }
  return {oomKills, forkRejections}
}

/** `why pod`'s view: an OOM kill the kernel summed up on an `oom-kill:` line (kernels since 4.19). */
export interface OomKill {
  uptimeSeconds: number | null
  /** the memory cgroup whose limit was hit */
  oomMemcg: string | null
  /** the cgroup of the process killed */
  taskMemcg: string | null
  task: string
  pid: number
}

/** One entry per `oom-kill:constraint=...,oom_memcg=...,task_memcg=...,task=...,pid=...` line. */
export function parseOomKills(text: string): OomKill[] {
  return parseKernelLog(text).oomKills
    .filter((k) => k.task !== null && k.lines[0].includes('oom-kill:'))
    .map((k) => ({uptimeSeconds: k.uptimeSeconds, oomMemcg: k.oomMemcg, taskMemcg: k.taskMemcg, task: k.task!, pid: k.pid}))
}
