import {NodedocError} from '../errors.js'
import type {ContainerLogs, PodLogs} from '../parse/log-files.js'

export interface PodQuery {
  /** Pod name, or its UID. */
  pod: string
  /** Undefined: any namespace, as `pod` searches, when the name is in only one. */
  namespace: string | undefined
}

function newestMtime(pod: PodLogs): number {
  return Math.max(0, ...pod.containers.flatMap((c) => c.files.map((f) => f.mtimeMs)))
}

/**
 * The pod log folder the user means: by UID in any namespace, else by namespace/name. A pod
 * recreated under the same name (StatefulSet) leaves folders for old UIDs: take the one written last.
 */
export function findPodLogs(pods: PodLogs[], query: PodQuery): PodLogs {
  const byUid = pods.filter((p) => p.uid === query.pod)
  const matches = byUid.length > 0 ? byUid : pods.filter((p) => p.name === query.pod && (query.namespace === undefined || p.namespace === query.namespace))
  const namespaces = [...new Set(matches.map((p) => p.namespace))]
  if (byUid.length === 0 && query.namespace === undefined && namespaces.length > 1) {
    throw new NodedocError(`pod ${query.pod} is in several namespaces (${namespaces.join(', ')}): name one with -n`)
  }
  if (matches.length === 0) {
    const elsewhere = pods.filter((p) => p.name === query.pod).map((p) => p.namespace)
    const hint = elsewhere.length > 0 ? ` (found in namespace ${[...new Set(elsewhere)].join(', ')}: use -n)` : ''
    throw new NodedocError(`no logs for pod ${query.namespace === undefined ? '' : `${query.namespace}/`}${query.pod} under /var/log/pods${hint}`)
  }
  return matches.sort((a, b) => newestMtime(b) - newestMtime(a))[0]
}

/** The container asked for, or the only one; more than one and none named is the user's choice (as kubectl). */
export function pickContainer(pod: PodLogs, container: string | undefined): ContainerLogs {
  const label = `${pod.namespace ?? '?'}/${pod.name ?? pod.uid}`
  if (container !== undefined) {
    const found = pod.containers.find((c) => c.name === container)
    if (!found) throw new NodedocError(`container ${container} is not valid for pod ${label}: choose one of [${pod.containers.map((c) => c.name).join(' ')}]`)
    return found
  }
  if (pod.containers.length === 1) return pod.containers[0]
  if (pod.containers.length === 0) throw new NodedocError(`pod ${label} has no container log folders in ${pod.path}`)
  throw new NodedocError(`a container name must be specified for pod ${label}, choose one of: [${pod.containers.map((c) => c.name).join(' ')}]`)
}
