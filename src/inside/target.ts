import type {Host} from '../host/host.js'
import {NodedocError} from '../errors.js'
import {type PodQuery, findPod} from '../pods/pods.js'
import type {ContainerReport, PodRef, PodReport} from '../pods/types.js'
import {podNotFound} from '../pods/render.js'

/** An answer about a pod's insides given on purpose: one line, and exit 1 (not found), 2 (usage) or 3 (the node could not be read). */
export class InsideError extends NodedocError {}

/** The pod (and container) a command looks inside. */
export interface PodTarget {
  pod: PodReport
  container: ContainerReport
  /** no -c was given and the pod has several containers: the first was taken */
  defaulted: boolean
}

export function podRef(pod: PodReport): PodRef {
  return {namespace: pod.namespace, name: pod.name, uid: pod.uid}
}

/** One pod by name or UID, as `pod` finds it; not there (or in several namespaces): exit 1 with the pods that are. */
export async function lookupPod(host: Host, query: PodQuery): Promise<PodReport> {
  const lookup = await findPod(host, query)
  if (lookup.kind !== 'found') throw new InsideError(...podNotFound(lookup, query.name ?? query.uid ?? '', query.namespace))
  return lookup.report
}

/**
 * A running container of the pod: the one -c names, else the only one, else the first by name
 * (as kubectl does, saying so). A container with no process has no root and no namespaces left.
 */
export function chooseContainer(pod: PodReport, name: string | undefined): PodTarget {
  const names = pod.containers.map((c) => c.name ?? c.id.slice(0, 13))
  const container = name === undefined ? pod.containers[0] : pod.containers.find((c) => c.name === name)
  const who = `${pod.namespace ?? '?'}/${pod.name ?? pod.uid}`
  if (!container) throw new InsideError(name === undefined ? `pod ${who} has no containers` : `container ${name} not found in pod ${who} (containers: ${names.join(', ') || 'none'})`, 1)
  if (container.pid === null) throw new InsideError(`container ${container.name ?? container.id} of pod ${who} is not running: its files and namespaces went with its processes`, 1)
  return {pod, container, defaulted: name === undefined && pod.containers.length > 1}
}
