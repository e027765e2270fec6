import type {Host} from '../host/host.js'
import {gatherPodCgroupProcs, gatherPods} from '../pods/pods.js'
import {gatherProcesses} from '../pods/processes.js'
import {gatherHostRoutes} from '../pods/routes.js'
import {gatherLogsForSnapshot} from '../logs/gather.js'
import {gatherNetFacts} from '../net/gather.js'
import {gatherDoctorFacts} from '../doctor/doctor.js'
import {gatherKubeProxyRules} from '../svc/gather.js'
import {gatherCriForSnapshot} from '../cri/gather.js'
import {gatherCompareFacts} from '../compare/compare.js'
import {gatherEventsForSnapshot, gatherUsageForSnapshot} from '../usage/gather.js'
import {gatherWhyFacts} from '../why/gather.js'
import {gatherSockets} from '../inside/sockets.js'

/**
 * What `nodedoc snapshot` runs through a recording host. Each command's gather step belongs
 * here, so that a snapshot holds whatever any command reads. One line per area.
 */
export const SNAPSHOT_GATHERERS: Array<{name: string; gather: (host: Host) => Promise<unknown>}> = [
  {name: 'pods', gather: gatherPods},
  {name: 'pod cgroup.procs', gather: gatherPodCgroupProcs},
  {name: 'processes', gather: gatherProcesses},
  {name: 'routes', gather: gatherHostRoutes},
  {name: 'logs', gather: gatherLogsForSnapshot},
  {name: 'net', gather: gatherNetFacts},
  {name: 'doctor', gather: gatherDoctorFacts},
  {name: 'svc', gather: (host) => gatherKubeProxyRules(host)},
  {name: 'cri', gather: gatherCriForSnapshot},
  {name: 'compare', gather: gatherCompareFacts},
  {name: 'top (two samples a second apart)', gather: gatherUsageForSnapshot},
  {name: 'events', gather: gatherEventsForSnapshot},
  {name: 'why', gather: gatherWhyFacts},
  {name: 'sockets', gather: (host) => gatherSockets(host)},
]
