import {type Host, readFiles} from '../host/host.js'
import {type CgroupIdentity, type ProcCgroupEntry, identifyProcCgroup, parseProcCgroup} from '../parse/cgroup.js'
import {parseCmdline, parseProcStat, parseProcStatus, type ProcStat, type ProcStatus, statFromStatus} from '../parse/proc.js'

/** What nodedoc knows of one process after a scan. */
export interface ProcInfo {
  pid: number
  ppid: number
  state: string
  comm: string
  argv: string[]
  nsPid: number
  status: ProcStatus | undefined
  cgroup: ProcCgroupEntry[]
  identity: CgroupIdentity & {version: 1 | 2 | null}
}

/**
 * Reads /proc/<pid>/cgroup for every process (or the `only` ones), then status and cmdline
 * for those `wanted` picks by identity; stat only where status does not say what it would
 * (statFromStatus). A process that exits mid-scan simply drops out. The files are read a
 * batch at a time (host.readFiles: /proc proved once, each process's folder opened below it).
 */
export async function scanProcesses(host: Host, wanted?: (identity: CgroupIdentity) => boolean, only?: number[]): Promise<ProcInfo[]> {
  const pids = only ? [...new Set(only)].sort((a, b) => a - b) : await listPids(host)
  // the processes of one cgroup (a container's, the node's kernel threads) have the same
  // cgroup file: parsed and identified once, shared (nothing changes them after)
  const cgroups = new Map<string, Pick<ProcInfo, 'cgroup' | 'identity'>>()
  const scanned: ProcInfo[] = []
  // a batch at a time, so that a batch's file texts die young instead of all surviving to the end
  for (let at = 0; at < pids.length; at += BATCH) {
    const batch = pids.slice(at, at + BATCH)
    const dirs = batch.map((pid) => `/proc/${pid}`)
    // everything wanted: the three files at once; else status and cmdline only for the picked
    const first = await readFiles(host, dirs, wanted ? ['cgroup'] : ['cgroup', 'status', 'cmdline'])
    const picked: Array<{i: number; known: Pick<ProcInfo, 'cgroup' | 'identity'>}> = []
    for (let i = 0; i < batch.length; i++) {
      const cgroupText = first[i][0]
      if (cgroupText === undefined) continue
      let known = cgroups.get(cgroupText)
      if (!known) {
        const cgroup = parseProcCgroup(cgroupText)
        known = {cgroup, identity: identifyProcCgroup(cgroup)}
        cgroups.set(cgroupText, known)
      }
      if (!wanted || wanted(known.identity)) picked.push({i, known})
    }
    const rest = wanted ? await readFiles(host, picked.map((p) => dirs[p.i]), ['status', 'cmdline']) : undefined
    for (let k = 0; k < picked.length; k++) {
      const {i, known} = picked[k]
      const statusText = rest ? rest[k][0] : first[i][1]
      const cmdlineText = rest ? rest[k][1] : first[i][2]
      const status = statusText ? parseProcStatus(statusText) : undefined
      // stat only where status does not say it: no promise per process otherwise
      const stat = (statusText && status ? statFromStatus(statusText, status) : undefined) ?? (await readStat(host, batch[i]))
      if (stat) scanned.push(processFrom(batch[i], stat, status, cmdlineText, known))
    }
  }
  return scanned
}

// processes read per batch: /proc proved once per batch, few enough texts held at a time
const BATCH = 128

/** /proc/<pid>/stat's comm, state and ppid; undefined when the process is gone or its stat unparseable (warned). */
async function readStat(host: Host, pid: number): Promise<Pick<ProcStat, 'comm' | 'state' | 'ppid'> | undefined> {
  const statText = await host.readFile(`/proc/${pid}/stat`)
  if (statText === undefined) return undefined
  const stat = parseProcStat(statText)
  if (!stat) host.warnings.add('bad:/proc/stat', 'unparseable /proc/<pid>/stat skipped', `/proc/${pid}/stat`)
  return stat
}

function processFrom(pid: number, stat: Pick<ProcStat, 'comm' | 'state' | 'ppid'>, status: ProcStatus | undefined, cmdlineText: string | undefined, known: Pick<ProcInfo, 'cgroup' | 'identity'>): ProcInfo {
  return {
    pid,
    ppid: stat.ppid,
    state: stat.state,
    comm: stat.comm,
    argv: cmdlineText ? parseCmdline(cmdlineText) : [],
    nsPid: status?.nsPid.at(-1) ?? pid,
    status,
    cgroup: known.cgroup,
    identity: known.identity,
  }
}

async function listPids(host: Host): Promise<number[]> {
  const entries = (await host.readDir('/proc')) ?? []
  return entries.filter((e) => PID_NAME.test(e.name)).map((e) => Number(e.name)).sort((a, b) => a - b)
}
// made once: a regular expression literal in a function is a new object at every call
const PID_NAME = /^\d+$/

/** How ps shows a command: argv, or [comm] for kernel threads and zombies that have none. */
export function commandLine(proc: ProcInfo): string {
  return proc.argv.length ? proc.argv.join(' ') : `[${proc.comm}]`
}
