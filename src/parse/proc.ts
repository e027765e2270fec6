// /proc/<pid>/{stat,status,cmdline} and /proc/<pid>/ns/* links.

export interface ProcStat {
  pid: number
  comm: string
  state: string
  ppid: number
  /** clock ticks after boot */
  startTime: number
}

/** /proc/<pid>/stat. comm may hold spaces and parentheses, so split at the last ')'. */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(')
  const close = text.lastIndexOf(')')
  if (open < 0 || close < open) return undefined
  const rest = text.slice(close + 2).trim().split(/\s+/)
  const pid = Number.parseInt(text.slice(0, open), 10)
  // rest[0] is field 3 (state); starttime is field 22
  if (!Number.isFinite(pid) || rest.length < 20) return undefined
  return {pid, comm: text.slice(open + 1, close), state: rest[0], ppid: Number(rest[1]), startTime: Number(rest[19])}
}

export interface ProcStatus {
  name: string
  state: string
  ppid: number
  /** Outermost first: NSpid "4242 1" means host PID 4242 is PID 1 in its namespace. */
  nsPid: number[]
  uid: number[]
  gid: number[]
  capEff: string | null
  capBnd: string | null
  noNewPrivs: boolean | null
  seccomp: number | null
  threads: number | null
}

// the keys ProcStatus holds; a real status has ~55 lines, and a scan reads thousands
const STATUS_KEYS = new Set(['Name', 'State', 'PPid', 'NSpid', 'Uid', 'Gid', 'CapEff', 'CapBnd', 'NoNewPrivs', 'Seccomp', 'Threads'])

/** /proc/<pid>/status: "Key:\tvalue" lines (a key given twice: the last one counts). */
export function parseProcStatus(text: string): ProcStatus | undefined {
  const fields = new Map<string, string>()
  for (let start = 0; start < text.length;) {
    let end = text.indexOf('\n', start)
    if (end < 0) end = text.length
    const colon = text.indexOf(':', start)
    if (colon > start && colon < end) {
      const key = text.slice(start, colon)
      if (STATUS_KEYS.has(key)) fields.set(key, text.slice(colon + 1, end).trim())
    }
    start = end + 1
  }
  if (!fields.has('Name') || !fields.has('State')) return undefined
  return {
    name: fields.get('Name')!,
    state: fields.get('State')!.split(/\s+/)[0],
    ppid: Number(fields.get('PPid') ?? 0),
    nsPid: numbers(fields, 'NSpid'),
    uid: numbers(fields, 'Uid'),
    gid: numbers(fields, 'Gid'),
    capEff: fields.get('CapEff') ?? null,
    capBnd: fields.get('CapBnd') ?? null,
    noNewPrivs: fields.has('NoNewPrivs') ? fields.get('NoNewPrivs') === '1' : null,
    seccomp: optional(fields, 'Seccomp'),
    threads: optional(fields, 'Threads'),
  }
}

// module functions, not closures per call: the bundle names every closure it makes (keepNames)
function numbers(fields: Map<string, string>, key: string): number[] {
  return (fields.get(key) ?? '').split(/\s+/).filter(Boolean).map(Number)
}

function optional(fields: Map<string, string>, key: string): number | null {
  return fields.has(key) ? Number(fields.get(key)) : null
}

/**
 * What /proc/<pid>/stat would say of comm, state and ppid, from /proc/<pid>/status alone:
 * the kernel writes both from the same task (proc_task_name, task_state, real_parent), but
 * status escapes "\n" and "\\" in Name, so a Name with a backslash is not comm as it is, and
 * a status without State or PPid says nothing. undefined: read stat.
 */
export function statFromStatus(text: string, status: ProcStatus): Pick<ProcStat, 'comm' | 'state' | 'ppid'> | undefined {
  if (status.name.includes('\\') || !/^[A-Za-z]$/.test(status.state) || !/^PPid:\s*\d+$/m.test(text)) return undefined
  return {comm: status.name, state: status.state, ppid: status.ppid}
}

/** /proc/<pid>/cmdline: NUL-separated argv; kernel threads have none. */
export function parseCmdline(text: string): string[] {
  const argv = text.split('\0')
  if (argv.at(-1) === '') argv.pop()
  return argv
}

/** "net:[4026531992]" -> 4026531992 */
export function parseNamespaceLink(target: string): number | undefined {
  const match = /^[a-z_]+:\[(\d+)\]$/.exec(target)
  return match ? Number(match[1]) : undefined
}
