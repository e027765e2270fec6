import type {Host} from '../../host/host.js'
import {oncePerHost} from '../../pods/once-per-host.js'
import {scanProcesses as scanAll} from '../../pods/proc-scan.js'

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

/** Every process, scanned once per Host however many checks ask. A process gone mid-scan is skipped. */
export const scanProcesses = oncePerHost(async (host: Host): Promise<DoctorProcess[]> =>
  (await scanAll(host)).map((p) => ({
    pid: p.pid, ppid: p.ppid, comm: p.comm, state: p.state, argv: p.argv,
    capEff: p.status?.capEff ?? null, podUid: p.identity.podUid, containerId: p.identity.containerId,
  })),
)

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
