import ipaddr from 'ipaddr.js'
import type {PodReport} from '../pods/types.js'
import type {LinkRecord} from '../parse/net.js'
import {type Route, longestPrefixMatch, singleAddress} from '../parse/route.js'
import {type CniConfig, cniConfigInUse} from './cni-config.js'
import type {NetFacts} from './gather.js'

export interface PodOnLink {
  namespace: string | null
  name: string | null
  uid: string
  /** the pod IP this link or route carries; null when only the veth ties them */
  ip: string | null
}

export interface NetRoute extends Omit<Route, 'prefsrc'> {
  /** the route device's link kind: veth, bridge, vxlan, ... */
  devKind: string | null
  pod: PodOnLink | null
}

export interface NetDevice {
  name: string
  ifindex: number
  kind: string | null
  state: string | null
  /** the bridge this device is a port of */
  master: string | null
  /** veth: the peer's ifindex inside its namespace */
  peerIfindex: number | null
  /** veth: the named netns (/run/netns) holding the peer, e.g. containerd's cni-<uuid> */
  peerNetns: string | null
  pods: PodOnLink[]
}

export interface NetBridge {
  name: string
  state: string | null
  ports: Array<{name: string; kind: string | null; peerNetns: string | null; pods: PodOnLink[]}>
}

export interface NetFinding {
  ip: string
  pod: PodOnLink | null
  dev: string | null
  message: string
}

/** What `nodedoc net -o json` prints. */
export interface NetReport {
  defaultRoutes: NetRoute[]
  routes: NetRoute[]
  devices: NetDevice[]
  bridges: NetBridge[]
  cni: {dir: string; source: string; inUse: CniConfig | null; files: CniConfig[]}
  podIpsWithoutRoute: NetFinding[]
  routesToNoPod: NetFinding[]
}

/** ipaddr normal form, so "fd00::0:5" and "fd00::5" are the same key. */
function normalIp(ip: string): string {
  try {
    return ipaddr.parse(ip).toNormalizedString()
  } catch {
    return ip
  }
}

function isDefault(route: Route): boolean {
  return route.destination === '0.0.0.0/0' || route.destination === '::/0'
}

function podRef(pod: PodReport, ip: string | null): PodOnLink {
  return {namespace: pod.namespace, name: pod.name, uid: pod.uid, ip}
}

/**
 * Joins routes, links, CNI config and pods: each route and veth to the pod on the other end
 * (by the pod's host veth name, else by a single-address route to one of its IPs), bridges to
 * their ports, and the mismatches in both directions.
 */
export function buildNetMap(facts: NetFacts): NetReport {
  const links = new Map(facts.links.map((l) => [l.name, l]))
  const netnsNames = new Map(facts.netnsNames)
  const nodeIps = new Set(facts.nodeAddresses.map(normalIp))
  const livePods = facts.pods.filter((p) => !p.hostNetwork)
  const podByIp = new Map<string, PodReport>()
  for (const pod of livePods) for (const ip of pod.ips) podByIp.set(normalIp(ip), pod)
  const mainRoutes = facts.routes.filter((r) => r.table === 'main' || r.table === 'all')

  // device -> pods: the pod's own record of its host veth first, then single-address routes
  const podsOnDevice = new Map<string, PodOnLink[]>()
  const addPod = (dev: string, ref: PodOnLink) => {
    const list = podsOnDevice.get(dev) ?? []
    if (!list.some((p) => p.uid === ref.uid && p.ip === ref.ip)) list.push(ref)
    podsOnDevice.set(dev, list)
  }
  for (const pod of livePods) {
    if (pod.hostVeth) addPod(pod.hostVeth.name, podRef(pod, pod.ips[0] ?? null))
  }
  for (const route of mainRoutes) {
    const ip = singleAddress(route.destination)
    if (ip === null || route.via) continue
    const pod = podByIp.get(normalIp(ip))
    if (pod && !(podsOnDevice.get(route.dev) ?? []).some((p) => p.uid === pod.uid)) addPod(route.dev, podRef(pod, ip))
  }

  const peerNetns = (link: LinkRecord | undefined) => (link?.linkNetnsId != null ? netnsNames.get(link.linkNetnsId) ?? `nsid ${link.linkNetnsId}` : null)

  const routes: NetRoute[] = facts.routes
    .filter((r) => r.table !== 'local' && r.type !== 'local' && r.type !== 'broadcast' && r.type !== 'multicast')
    .map((r) => {
      const ip = singleAddress(r.destination)
      const single = ip === null ? undefined : podByIp.get(normalIp(ip))
      const onDev = podsOnDevice.get(r.dev)
      const pod = single ? podRef(single, ip!) : links.get(r.dev)?.kind === 'veth' && onDev?.length === 1 ? onDev[0] : null
      return {destination: r.destination, dev: r.dev, via: r.via, scope: r.scope, table: r.table, type: r.type, protocol: r.protocol, devKind: links.get(r.dev)?.kind ?? null, pod}
    })

  const devices: NetDevice[] = facts.links
    .filter((l) => l.kind === 'veth' || l.kind === 'bridge' || l.master !== null || podsOnDevice.has(l.name))
    .map((l) => ({
      name: l.name, ifindex: l.ifindex, kind: l.kind, state: l.state, master: l.master,
      peerIfindex: l.kind === 'veth' ? l.iflink : null, peerNetns: peerNetns(l), pods: podsOnDevice.get(l.name) ?? [],
    }))

  const bridges: NetBridge[] = facts.links
    .filter((l) => l.kind === 'bridge')
    .map((b) => ({
      name: b.name,
      state: b.state,
      ports: facts.links.filter((l) => l.master === b.name).map((p) => ({name: p.name, kind: p.kind, peerNetns: peerNetns(p), pods: podsOnDevice.get(p.name) ?? []})),
    }))

  const podIpsWithoutRoute: NetFinding[] = []
  for (const pod of livePods) {
    for (const ip of pod.ips) {
      const route = longestPrefixMatch(facts.routes, ip)
      const ref = podRef(pod, ip)
      const veth = pod.hostVeth?.name
      const bridge = veth ? links.get(veth)?.master ?? null : null
      if (!route) podIpsWithoutRoute.push({ip, pod: ref, dev: null, message: 'no route on the node matches this pod IP'})
      else if (route.type !== 'unicast') podIpsWithoutRoute.push({ip, pod: ref, dev: route.dev, message: `${route.type} route ${route.destination} swallows it`})
      else if (isDefault(route)) podIpsWithoutRoute.push({ip, pod: ref, dev: route.dev, message: `only the default route matches: packets leave via ${route.dev}${route.via ? ` (${route.via})` : ''} instead of reaching the pod`})
      else if (veth && route.dev !== veth && route.dev !== bridge && !route.via) {
        podIpsWithoutRoute.push({ip, pod: ref, dev: route.dev, message: `routed to ${route.dev}, but the pod's host veth is ${veth}${bridge ? ` (port of ${bridge})` : ''}`})
      }
    }
  }

  const routesToNoPod: NetFinding[] = []
  for (const route of mainRoutes) {
    const ip = singleAddress(route.destination)
    if (ip === null || route.via || route.type !== 'unicast') continue
    if (links.get(route.dev)?.kind !== 'veth') continue
    if (podByIp.has(normalIp(ip)) || nodeIps.has(normalIp(ip))) continue
    const netns = peerNetns(links.get(route.dev))
    routesToNoPod.push({ip, pod: null, dev: route.dev, message: `no pod holds ${ip}${netns ? ` (veth peer in netns ${netns})` : ''}`})
  }

  return {
    defaultRoutes: routes.filter((r) => isDefault({destination: r.destination} as Route) && r.table === 'main'),
    routes,
    devices,
    bridges,
    cni: {dir: facts.cniConfDir.path, source: facts.cniConfDir.source, inUse: cniConfigInUse(facts.cniConfigs), files: facts.cniConfigs},
    podIpsWithoutRoute,
    routesToNoPod,
  }
}
