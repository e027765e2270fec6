import type {PodLookup, PodSummary} from '../pods/pods.js'
import {columns} from './table.js'

export function podList(pods: PodSummary[]): string {
  return columns(['namespace', 'name', 'uid', 'containers', 'running'], pods.map((p) => [p.namespace, p.name, p.uid, p.containers, p.running ? 'yes' : 'no']))
}

/** The one-line error and the listing that follows it, for a pod that is not (uniquely) here. */
export function podNotFound(lookup: Exclude<PodLookup, {kind: 'found'}>, what: string, namespace: string | undefined): [string, number, string] {
  if (lookup.kind === 'ambiguous') {
    return [`pod ${what} is in several namespaces; choose one with -n`, 1, podList(lookup.candidates)]
  }
  const where = namespace ? ` in namespace ${namespace}` : ''
  const detail = lookup.known.length ? `pods on this node:\n${podList(lookup.known)}` : 'this node shows no pods\n'
  return [`pod ${what} not found${where} on this node`, 1, detail]
}
