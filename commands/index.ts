// Explicit command registry: oclif loads this one file instead of scanning a folder.
import Doctor from './doctor.js'
import Logs from './logs.js'
import Net from './net.js'
import Pod from './pod.js'
import Ps from './ps.js'
import Report from './report.js'
import Snapshot from './snapshot.js'
import Svc from './svc.js'

export const COMMANDS = {
  doctor: Doctor,
  logs: Logs,
  net: Net,
  pod: Pod,
  ps: Ps,
  report: Report,
  snapshot: Snapshot,
  svc: Svc,
}
