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
  // each kept value in a variable of its own: a Map of them was much of a parse's garbage
  let name: Value, state: Value, ppid: Value, nsPid: Value, uid: Value, gid: Value
  let capEff: Value, capBnd: Value, noNewPrivs: Value, seccomp: Value, threads: Value
  for (let start = 0; start < text.length;) {
    let end = text.indexOf('\n', start)
    if (end < 0) end = text.length
    const colon = text.indexOf(':', start)
    const key = colon > start && colon < end ? text.slice(start, colon) : undefined
    // one lookup for the ~45 lines of keys not kept, the switch only for the kept
    if (key !== undefined && STATUS_KEYS.has(key)) {
      switch (key) {
        case 'Name': name = statusValue(text, colon, end); break
        case 'State': state = statusValue(text, colon, end); break
        case 'PPid': ppid = statusValue(text, colon, end); break
        case 'NSpid': nsPid = statusValue(text, colon, end); break
        case 'Uid': uid = statusValue(text, colon, end); break
        case 'Gid': gid = statusValue(text, colon, end); break
        case 'CapEff': capEff = statusValue(text, colon, end); break
        case 'CapBnd': capBnd = statusValue(text, colon, end); break
        case 'NoNewPrivs': noNewPrivs = statusValue(text, colon, end); break
        case 'Seccomp': seccomp = statusValue(text, colon, end); break
        case 'Threads': threads = statusValue(text, colon, end); break
      }
    }
    start = end + 1
  }
  if (name === undefined || state === undefined) return undefined
  return {
    name,
    state: firstWord(state),
    ppid: Number(ppid ?? 0),
    nsPid: numbers(nsPid),
    uid: numbers(uid),
    gid: numbers(gid),
    capEff: capEff ?? null,
    capBnd: capBnd ?? null,
    noNewPrivs: noNewPrivs === undefined ? null : noNewPrivs === '1',
    seccomp: optional(seccomp),
    threads: optional(threads),
  }
}

/** A status key's value; undefined while the text has not given it. */
type Value = string | undefined

// module functions, not closures per call: the bundle names every closure it makes (keepNames)
function statusValue(text: string, colon: number, end: number): string {
  return text.slice(colon + 1, end).trim()
}

// split(/\s+/) is a regular expression's split, 2-4 µs and 300-550 bytes of garbage for a field
// of a few numbers (a scan parses thousands): the usual field (digits and single tabs, as the
// kernel writes it) is split at its tabs; anything else as before
/** The numbers of a field's white-space-separated words, as split(/\s+/).filter(Boolean).map(Number) gives them. */
function numbers(value: Value): number[] {
  if (value === undefined) return []
  return TAB_SEPARATED_DIGITS.test(value) ? value.split('\t').map(Number) : value.split(/\s+/).filter(Boolean).map(Number)
}
const TAB_SEPARATED_DIGITS = /^\d+(?:\t\d+)*$/

/** The first word of a trimmed value: split(/\s+/)[0]. */
function firstWord(value: string): string {
  const end = value.search(WHITE_SPACE)
  return end < 0 ? value : value.slice(0, end)
}
const WHITE_SPACE = /\s/

function optional(value: Value): number | null {
  return value === undefined ? null : Number(value)
}

/**
 * What /proc/<pid>/stat would say of comm, state and ppid, from /proc/<pid>/status alone:
 * the kernel writes both from the same task (proc_task_name, task_state, real_parent), but
 * status escapes "\n" and "\\" in Name, so a Name with a backslash is not comm as it is, and
 * a status without State or PPid says nothing. undefined: read stat.
 */
export function statFromStatus(text: string, status: ProcStatus): Pick<ProcStat, 'comm' | 'state' | 'ppid'> | undefined {
  if (status.name.includes('\\') || !STATE_LETTER.test(status.state) || !PPID_LINE.test(text)) return undefined
  return {comm: status.name, state: status.state, ppid: status.ppid}
}
// made once: a regular expression literal in a function is a new object at every call (a scan makes thousands)
const STATE_LETTER = /^[A-Za-z]$/
const PPID_LINE = /^PPid:\s*\d+$/m

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
