// Explicit command registry: oclif loads this one file instead of scanning a folder.
import Logs from './logs.js'
import Pod from './pod.js'
import Ps from './ps.js'
import Snapshot from './snapshot.js'

export const COMMANDS = {
  logs: Logs,
  pod: Pod,
  ps: Ps,
  snapshot: Snapshot,
}
