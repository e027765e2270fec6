import type {ProcessRecord} from './types.js'

export interface ProcessFilter {
  pod?: string
  namespace?: string
  all?: boolean
  zombies?: boolean
  unowned?: boolean
}

/** ps's selection: pod processes by default, -A for all, --unowned for those in no pod. */
export function filterProcesses(procs: ProcessRecord[], filter: ProcessFilter): ProcessRecord[] {
  return procs.filter((p) => {
    if (filter.unowned) return p.pod === null && (!filter.zombies || p.state === 'Z')
    if (filter.zombies && p.state !== 'Z') return false
    if (filter.pod && p.pod?.name !== filter.pod && p.pod?.uid !== filter.pod) return false
    if (filter.namespace && p.pod?.namespace !== filter.namespace) return false
    return filter.all || filter.zombies || p.pod !== null
  })
}
