// `nodedoc ps`'s work once its flags are parsed, shared by oclif's Ps class (commands/ps.ts) and
// the launcher's direct path (direct-ps.ts): one body, so both answer alike.
import type {Host} from '../host/host.js'
import {enrichProcesses} from '../cri/enrich.js'
import {criViewFor} from '../cri/gather.js'
import {gatherProcesses} from '../pods/processes.js'
import {filterProcesses} from '../pods/process-filter.js'
import {PROCESS_LIST, psTable} from '../pods/render.js'
import {type OutputFlags, printRecord} from './answer.js'

export interface PsFlags extends OutputFlags {
  pod?: string
  namespace?: string
  all?: boolean
  zombies?: boolean
  unowned?: boolean
  'runtime-endpoint'?: string
  'host-root'?: string
  from?: string
}

/** Lists the processes the flags select and prints them; open gives the Host the flags name (and keeps it for the warnings). */
export async function answerPs(flags: PsFlags, open: (flags: PsFlags) => Promise<Host>): Promise<void> {
  const host = await open(flags)
  const cri = await criViewFor(flags, host, {statuses: false})
  // without -A, --zombies or --unowned only pod processes show: the others' status and cmdline go unread
  const all = await gatherProcesses(host, {podsOnly: !flags.all && !flags.zombies && !flags.unowned})
  const procs = filterProcesses(cri ? enrichProcesses(all, cri) : all, flags)
  await printRecord(host, procs, flags, psTable, PROCESS_LIST)
}
