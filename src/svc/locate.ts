// Each endpoint onward from the DNAT: the route the node would use, and the pod that owns the IP.

import type {PodAddresses} from '../pods/types.js'
import {type Route, longestPrefixMatch} from '../parse/route.js'
import type {EndpointTrace, ServiceTrace} from './types.js'

export interface NodeNetwork {
  routes: Route[]
  /** every pod of the node, by namespace/name (where two claim one IP, the later holds it) */
  pods: PodAddresses[]
}

/** The node's own addresses: `local` routes of the local table. */
function localAddresses(routes: Route[]): Set<string> {
  const out = new Set<string>()
  for (const r of routes) if (r.type === 'local') out.add(r.destination.split('/')[0])
  return out
}

function locate(ep: EndpointTrace, net: NodeNetwork, local: Set<string>, podsByIp: Map<string, PodAddresses>): void {
  const pod = podsByIp.get(ep.ip)
  if (pod) ep.pod = {namespace: pod.namespace, name: pod.name, uid: pod.uid}
  if (local.has(ep.ip)) {
    ep.location = 'local'
    ep.route = {dev: 'lo', via: null, destination: `${ep.ip}/32`}
    return
  }
  const route = longestPrefixMatch(net.routes, ep.ip)
  if (!route) {
    ep.location = 'unknown'
    if (net.routes.length) ep.problems.push(`no route to ${ep.ip}`)
    return
  }
  ep.route = {dev: route.dev, via: route.via, destination: route.destination}
  if (route.type !== 'unicast') {
    ep.location = 'unknown'
    ep.problems.push(`${ep.ip} is routed to ${route.type} (${route.destination})`)
    return
  }
  if (pod) {
    ep.location = 'local'
    if (pod.hostVeth && pod.hostVeth.name !== route.dev) ep.problems.push(`route to ${ep.ip} uses ${route.dev}, but the pod's veth is ${pod.hostVeth.name}`)
    return
  }
  const defaultDev = net.routes.find((r) => r.table === 'main' && /^(0\.0\.0\.0|::)\/0$/.test(r.destination))?.dev
  // via a gateway, or on the node's own uplink: another machine answers
  if (route.via || route.dev === defaultDev) {
    ep.location = 'remote'
    return
  }
  ep.location = 'local'
  if (net.pods.length) ep.problems.push(`${ep.ip} is routed into this node (dev ${route.dev}) but no pod here owns it: stale endpoint?`)
}

/** Fills location, route and pod of every endpoint; adds endpoint problems to the service. */
export function locateEndpoints(services: ServiceTrace[], net: NodeNetwork): void {
  const local = localAddresses(net.routes)
  const podsByIp = new Map<string, PodAddresses>()
  for (const pod of net.pods) for (const ip of pod.ips) podsByIp.set(ip, pod)
  for (const svc of services) {
    for (const ep of [...svc.endpoints, ...(svc.localEndpoints ?? [])]) {
      ep.problems = []
      locate(ep, net, local, podsByIp)
    }
    for (const ep of svc.endpoints) for (const p of ep.problems) if (!svc.problems.includes(p)) svc.problems.push(p)
  }
}
