import {type Host, readFiles} from '../host/host.js'
import {type CgroupIdentity, type ProcCgroupEntry, identifyProcCgroup, parseProcCgroup} from '../parse/cgroup.js'
import {parseCmdline, parseProcStat, parseProcStatus, type ProcStatus, statFromStatus} from '../parse/proc.js'

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
 * Reads /proc/<pid>/cgroup for every process (or the `only` ones), then status and cmdline
 * for those `wanted` picks by identity; stat only where status does not say what it would
 * (statFromStatus). A process that exits mid-scan simply drops out. The files of one process
 * are read together (host.readFiles: its folder resolved once).
 */
export async function scanProcesses(host: Host, wanted?: (identity: CgroupIdentity) => boolean, only?: number[]): Promise<ProcInfo[]> {
  const pids = only ? [...new Set(only)].sort((a, b) => a - b) : await listPids(host)
  // the processes of one cgroup (a container's, the node's kernel threads) have the same
  // cgroup file: parsed and identified once, shared (nothing changes them after)
  const cgroups = new Map<string, Pick<ProcInfo, 'cgroup' | 'identity'>>()
  const scanned = await inOrder(
    pids,
    async (pid): Promise<ProcInfo | undefined> => {
      const dir = `/proc/${pid}`
      // everything wanted: one read of the three; else status and cmdline only for the picked
      const [cgroupText, ...rest] = await readFiles(host, dir, wanted ? ['cgroup'] : ['cgroup', 'status', 'cmdline'])
      if (cgroupText === undefined) return undefined
      let known = cgroups.get(cgroupText)
      if (!known) {
        const cgroup = parseProcCgroup(cgroupText)
        known = {cgroup, identity: identifyProcCgroup(cgroup)}
        cgroups.set(cgroupText, known)
      }
      const {cgroup, identity} = known
      if (wanted && !wanted(identity)) return undefined
      const [statusText, cmdlineText] = wanted ? await readFiles(host, dir, ['status', 'cmdline']) : rest
      const status = statusText ? parseProcStatus(statusText) : undefined
      let stat = statusText && status ? statFromStatus(statusText, status) : undefined
      if (!stat) {
        const statText = await host.readFile(`${dir}/stat`)
        if (statText === undefined) return undefined
        stat = parseProcStat(statText)
        if (!stat) {
          host.warnings.add('bad:/proc/stat', 'unparseable /proc/<pid>/stat skipped', `${dir}/stat`)
          return undefined
        }
      }
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
  )
  return scanned.filter((p): p is ProcInfo => p !== undefined)
}

/**
 * work(item) for every item, CONCURRENCY at a time, results in input order. The hosts read
 * synchronously, so this is a plain loop in practice; p-map's machinery per item cost more
 * than a process's reads on a 3000-process scan.
 */
async function inOrder<T, R>(items: T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      results[i] = await work(items[i])
    }
  }
  await Promise.all(Array.from({length: Math.min(CONCURRENCY, items.length)}, worker))
  return results
}

async function listPids(host: Host): Promise<number[]> {
  const entries = (await host.readDir('/proc')) ?? []
  return entries.filter((e) => /^\d+$/.test(e.name)).map((e) => Number(e.name)).sort((a, b) => a - b)
}

/** How ps shows a command: argv, or [comm] for kernel threads and zombies that have none. */
export function commandLine(proc: ProcInfo): string {
  return proc.argv.length ? proc.argv.join(' ') : `[${proc.comm}]`
}
