import {type Host, hostPath} from '../../host/host.js'
import {identifyProcCgroup, parseProcCgroup} from '../../parse/cgroup.js'
import {parseCmdline, parseProcStat, parseProcStatus} from '../../parse/proc.js'

/** What doctor needs to know about one process. */
export interface DoctorProcess {
  pid: number
  ppid: number
  comm: string
  state: string
  argv: string[]
  capEff: string | null
  podUid: string | null
  containerId: string | null
}

const cache = new WeakMap<Host, Promise<DoctorProcess[]>>()

/** Every process, scanned once per Host however many checks ask. A process gone mid-scan is skipped. */
export function scanProcesses(host: Host): Promise<DoctorProcess[]> {
  let scan = cache.get(host)
  if (!scan) {
    scan = doScan(host)
    cache.set(host, scan)
  }
  return scan
}

async function doScan(host: Host): Promise<DoctorProcess[]> {
  const pids = ((await host.readDir('/proc')) ?? []).filter((e) => /^\d+$/.test(e.name)).map((e) => Number(e.name))
  const out: DoctorProcess[] = []
  for (const pid of pids) {
    const base = hostPath('/proc', String(pid))
    const [statText, statusText, cmdline, cgroup] = await Promise.all([
      host.readFile(`${base}/stat`), host.readFile(`${base}/status`), host.readFile(`${base}/cmdline`), host.readFile(`${base}/cgroup`),
    ])
    const stat = statText ? parseProcStat(statText) : undefined
    if (!stat) continue
    const status = statusText ? parseProcStatus(statusText) : undefined
    const identity = cgroup ? identifyProcCgroup(parseProcCgroup(cgroup)) : undefined
    out.push({
      pid, ppid: stat.ppid, comm: stat.comm, state: stat.state, argv: cmdline ? parseCmdline(cmdline) : [],
      capEff: status?.capEff ?? null, podUid: identity?.podUid ?? null, containerId: identity?.containerId ?? null,
    })
  }
  return out
}

/** "--flag=value" or "--flag value" from an argv. */
export function flagValue(argv: string[], flag: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === flag) return argv[i + 1]
    if (argv[i].startsWith(`${flag}=`)) return argv[i].slice(flag.length + 1)
  }
  return undefined
}

export function findProcess(processes: DoctorProcess[], comm: string): DoctorProcess | undefined {
  return processes.find((p) => p.comm === comm && p.state !== 'Z')
}
