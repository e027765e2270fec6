// --from-pod [NAMESPACE/]POD or --from-node: where probing traffic starts.

import type {Host} from '../host/host.js'
import {NodedocError} from '../errors.js'
import {findPod} from '../pods/pods.js'
import {podNotFound} from '../pods/render.js'
import type {ProbeSource} from './types.js'

/** "ns/name" or "name" (any namespace, if the name is unique). */
export function splitPodName(text: string): {namespace: string | undefined; name: string} {
  const slash = text.indexOf('/')
  return slash < 0 ? {namespace: undefined, name: text} : {namespace: text.slice(0, slash), name: text.slice(slash + 1)}
}

/** The pod's sandbox PID (whose network namespace the client enters) and its IPv4 address (the flows' source). */
export async function resolveSource(host: Host, fromPod: string | undefined): Promise<ProbeSource> {
  if (!fromPod) return {kind: 'node'}
  const {namespace, name} = splitPodName(fromPod)
  const lookup = await findPod(host, {name, namespace})
  if (lookup.kind !== 'found') throw new NodedocError(...podNotFound(lookup, fromPod, namespace))
  const pod = lookup.report
  const pid = pod.sandbox.pid ?? pod.containers.find((c) => c.pid !== null)?.pid ?? null
  if (pid === null) throw new NodedocError(`pod ${pod.namespace}/${pod.name} has no running process whose network namespace could be entered`)
  // a hostNetwork pod's traffic leaves from the node's own namespace
  if (pod.hostNetwork) return {kind: 'node'}
  const ip = pod.ips.find((a) => !a.includes(':')) ?? pod.ips[0] ?? null
  return {kind: 'pod', namespace: pod.namespace, name: pod.name, uid: pod.uid, pid, ip}
}
