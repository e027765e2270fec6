import pMap from 'p-map'
import type {Host} from '../host/host.js'
import {type CgroupIdentity, type ProcCgroupEntry, identifyProcCgroup, parseProcCgroup} from '../parse/cgroup.js'
import {parseCmdline, parseProcStat, parseProcStatus, type ProcStatus} from '../parse/proc.js'

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

// Enough to keep the disk busy without running out of file descriptors on a 3000-process node.
const CONCURRENCY = 64

/**
 * Reads /proc/<pid>/cgroup for every process (or the `only` ones), then stat, status and cmdline
 * for those `wanted` picks by identity. A process that exits mid-scan simply drops out.
 */
export async function scanProcesses(host: Host, wanted: (identity: CgroupIdentity) => boolean = () => true, only?: number[]): Promise<ProcInfo[]> {
  const pids = only ? [...new Set(only)].sort((a, b) => a - b) : await listPids(host)
  const scanned = await pMap(
    pids,
    async (pid): Promise<ProcInfo | undefined> => {
      const cgroupText = await host.readFile(`/proc/${pid}/cgroup`)
      if (cgroupText === undefined) return undefined
      const cgroup = parseProcCgroup(cgroupText)
      const identity = identifyProcCgroup(cgroup)
      if (!wanted(identity)) return undefined
      const [statText, statusText, cmdlineText] = await Promise.all([
        host.readFile(`/proc/${pid}/stat`),
        host.readFile(`/proc/${pid}/status`),
        host.readFile(`/proc/${pid}/cmdline`),
      ])
      if (statText === undefined) return undefined
      const stat = parseProcStat(statText)
      if (!stat) {
        host.warnings.add('bad:/proc/stat', 'unparseable /proc/<pid>/stat skipped', `/proc/${pid}/stat`)
        return undefined
      }
      const status = statusText ? parseProcStatus(statusText) : undefined
      return {
        pid,
        ppid: stat.ppid,
        state: stat.state,
        comm: stat.comm,
        argv: cmdlineText ? parseCmdline(cmdlineText) : [],
        nsPid: status?.nsPid.at(-1) ?? pid,
        status,
        cgroup,
        identity,
      }
    },
    {concurrency: CONCURRENCY},
  )
  return scanned.filter((p): p is ProcInfo => p !== undefined)
}

async function listPids(host: Host): Promise<number[]> {
  const entries = (await host.readDir('/proc')) ?? []
  return entries.filter((e) => /^\d+$/.test(e.name)).map((e) => Number(e.name)).sort((a, b) => a - b)
}

/** How ps shows a command: argv, or [comm] for kernel threads and zombies that have none. */
export function commandLine(proc: ProcInfo): string {
  return proc.argv.length ? proc.argv.join(' ') : `[${proc.comm}]`
}
