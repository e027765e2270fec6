import type {DocumentShape} from '../output/output.js'
import {age, columns, shortId} from '../output/table.js'
import type {ContainerRow, PodRow} from './listing.js'

/** `nodedoc pods`: kubectl get pods' columns (-o wide adds IP, QoS and UID). */
export function podsTable(rows: PodRow[], wide: boolean): string {
  const head = wide ? ['namespace', 'name', 'ready', 'status', 'restarts', 'age', 'ip', 'qos', 'uid'] : ['namespace', 'name', 'ready', 'status', 'restarts', 'age', 'ip']
  return columns(head, rows.map((r) => {
    const cells = [r.namespace, r.name ?? r.uid, r.ready, r.status, r.restarts, age(r.ageSeconds), r.ip]
    return wide ? [...cells, r.qosClass, r.uid] : cells
  }))
}

/** `nodedoc containers`: crictl ps -a's columns; the exit code joins STATE, -o wide adds the reason and the rest. */
export function containersTable(rows: ContainerRow[], wide: boolean): string {
  if (wide) {
    return columns(
      ['container', 'image', 'created', 'state', 'name', 'attempt', 'exit', 'reason', 'pid', 'pod', 'namespace', 'pod uid'],
      rows.map((r) => [r.id, r.image, age(r.ageSeconds), r.state, r.name, r.attempt, r.exitCode, r.reason, r.pid, r.pod.name, r.pod.namespace, r.pod.uid]),
    )
  }
  return columns(['container', 'image', 'created', 'state', 'name', 'pod'], rows.map((r) => {
    // the exit code stays in view; the reason (Error, OOMKilled, Completed) is in -o wide
    const state = r.exitCode === null ? r.state : `${r.state} ${r.exitCode}`
    return [shortId(r.id), r.image?.replace(/^.*\//, ''), age(r.ageSeconds), state, r.name, r.pod.name]
  }))
}

/** `pods -o json`: a PodList of items; `-o name`: pod/NAMESPACE/NAME. */
export const POD_LIST: DocumentShape<PodRow[]> = {kind: 'PodList', name: (r: PodRow) => `pod/${r.namespace ?? '-'}/${r.name ?? r.uid}`}
/** `containers -o json`: a ContainerList of items; `-o name`: container/ID. */
export const CONTAINER_LIST: DocumentShape<ContainerRow[]> = {kind: 'ContainerList', name: (r: ContainerRow) => `container/${r.id ?? r.name}`}
