// The gather-and-join steps of `pods` and `containers`: every pod inspected from host files,
// joined with the runtime's view, filtered as the flags ask.

import type {Host} from '../host/host.js'
import {provenanceOf} from '../host/provenance.js'
import {gatherPods} from '../pods/pods.js'
import {type ContainerRow, type PodRow, containerRows, gatherStartTimes, matchesLabels, podRows} from './listing.js'
import type {CriView} from './view.js'

export interface PodFilter {
  namespace?: string
  selector?: string
  fieldSelector?: string
}

/** kubectl-style --field-selector over the row's status: status=Running, status!=Running. */
function matchesFields(row: PodRow, selector: string): boolean {
  return selector.split(',').map((s) => s.trim()).filter(Boolean).every((term) => {
    const m = /^(status(?:\.phase)?)\s*(!=|==|=)\s*(.*)$/.exec(term)
    if (!m) return true
    return m[2] === '!=' ? row.status !== m[3] : row.status === m[3]
  })
}

export async function podListing(host: Host, cri: CriView | undefined, filter: PodFilter): Promise<PodRow[]> {
  const reports = (await gatherPods(host)).filter((r) => filter.namespace === undefined || r.namespace === filter.namespace)
  const now = Date.parse((await provenanceOf(host)).capturedAt)
  const rows = podRows(reports, cri, await gatherStartTimes(host, reports), now)
  return rows.filter((r) => (filter.selector === undefined || matchesLabels(r.labels, filter.selector)) && (filter.fieldSelector === undefined || matchesFields(r, filter.fieldSelector)))
}

export async function containerListing(host: Host, cri: CriView | undefined, filter: {namespace?: string; pod?: string; state?: string}): Promise<ContainerRow[]> {
  const reports = await gatherPods(host)
  const now = Date.parse((await provenanceOf(host)).capturedAt)
  return containerRows(reports, cri, now).filter((r) =>
    (filter.namespace === undefined || r.pod.namespace === filter.namespace) && (filter.pod === undefined || r.pod.name === filter.pod || r.pod.uid === filter.pod) && (filter.state === undefined || r.state === filter.state))
}
