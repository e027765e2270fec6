import type {ProcessRecord} from '../pods/types.js'
import {columns} from './table.js'

/** `nodedoc ps`: ps with POD and CONTAINER columns. */
export function psTable(procs: ProcessRecord[], wide: boolean): string {
  const head = wide ? ['pid', 'ppid', 'nspid', 'stat', 'namespace', 'pod', 'uid', 'container', 'container id', 'command'] : ['pid', 'ppid', 'nspid', 'stat', 'pod', 'container', 'command']
  return columns(
    head,
    procs.map((p) => {
      const pod = p.pod ? `${p.pod.namespace ?? '?'}/${p.pod.name ?? p.pod.uid}` : undefined
      const command = wide ? p.command : p.command.length > 80 ? p.command.slice(0, 77) + '...' : p.command
      return wide
        ? [p.pid, p.ppid, p.nsPid, p.state, p.pod?.namespace, p.pod?.name, p.pod?.uid, p.container?.name, p.container?.id, command]
        : [p.pid, p.ppid, p.nsPid, p.state, pod, p.container?.name, command]
    }),
  )
}
