import type {Host} from '../host/host.js'
import {type LinkRecord, parseFibTrieLocal, parseIfInet6, parseIgmpIfindex, parseNetDev} from '../parse/net.js'
import {type Route, longestPrefixMatch, parsePrefix, parseProcNetRoute} from '../parse/route.js'
import {gatherHostLinks, gatherNetnsIds} from './links.js'
import type {InterfaceRecord} from './types.js'

/** The node's links and the named network namespaces it can see. */
export interface HostNetwork {
  links: LinkRecord[]
  /** nsid (as the node numbers peer namespaces) -> name under /run/netns */
  netnsNames: Map<number, string>
  /** netns inode -> name under /run/netns (containerd's cni-<uuid>) */
  netnsByInode: Map<number, string>
  routes: Route[]
}

export async function readHostNetwork(host: Host, routes: Route[]): Promise<HostNetwork> {
  const [links, netnsNames, netnsByInode] = await Promise.all([gatherHostLinks(host), gatherNetnsIds(host), readNamedNetns(host)])
  return {links, netnsNames, netnsByInode, routes}
}

async function readNamedNetns(host: Host): Promise<Map<number, string>> {
  const byInode = new Map<number, string>()
  // /run first: /var/run is usually an absolute link to /run, which would escape a --host-root
  for (const dir of ['/run/netns', '/var/run/netns']) {
    for (const entry of (await host.readDir(dir)) ?? []) {
      const stat = await host.stat(`${dir}/${entry.name}`)
      if (stat && !byInode.has(stat.ino)) byInode.set(stat.ino, entry.name)
    }
    if (byInode.size) break
  }
  return byInode
}

/** A pod's addresses and interfaces, read through /proc/<pid>/net of one of its processes. */
export interface PodNetwork {
  ips: string[]
  interfaces: InterfaceRecord[]
  /** interface name -> ifindex inside the pod's namespace */
  ifindex: Map<string, number>
  /** interface name -> the ifindex of its peer on the node (a veth's iflink), where the pod's sysfs shows it */
  peerIfindex: Map<string, number>
}

export async function readPodNetwork(host: Host, pid: number): Promise<PodNetwork> {
  const [fibTrie, dev, route, inet6, igmp] = await Promise.all(
    ['fib_trie', 'dev', 'route', 'if_inet6', 'igmp'].map((f) => host.readFile(`/proc/${pid}/net/${f}`)),
  )
  const names = dev ? parseNetDev(dev).filter((n) => n !== 'lo') : []
  const routes = route ? parseProcNetRoute(route) : []
  const v4 = (fibTrie ? parseFibTrieLocal(fibTrie) : []).filter((ip) => !ip.startsWith('127.'))
  const v6 = inet6 ? parseIfInet6(inet6).filter((a) => a.scope === 'global') : []
  const ifindex = new Map<string, number>()
  for (const a of inet6 ? parseIfInet6(inet6) : []) ifindex.set(a.device, a.ifindex)
  for (const [name, index] of igmp ? parseIgmpIfindex(igmp) : []) ifindex.set(name, index)

  const byInterface = new Map<string, string[]>(names.map((n) => [n, []]))
  for (const ip of v4) {
    // the on-link route that holds the address names its interface; a lone interface takes the rest
    const onLink = routes.filter((r) => !r.via && r.dev !== 'lo')
    const dev = longestPrefixMatch(onLink, ip)?.dev ?? (names.length === 1 ? names[0] : undefined)
    if (dev) (byInterface.get(dev) ?? byInterface.set(dev, []).get(dev)!).push(ip)
  }
  for (const a of v6) (byInterface.get(a.device) ?? byInterface.set(a.device, []).get(a.device)!).push(a.address)
  return {
    ips: [...v4, ...v6.map((a) => a.address)],
    interfaces: [...byInterface.entries()].map(([name, ips]) => ({name, ips})),
    ifindex,
    peerIfindex: await readPeerIfindex(host, pid, names, ifindex),
  }
}

/**
 * A veth's iflink is its peer's ifindex: the pod's own sysfs (runtimes mount one for the pod's
 * netns, seen through /proc/<pid>/root) names the node-side end exactly, even on a bridge where
 * every pod's eth0 has the same index. A sysfs of another namespace (a container without its own
 * /sys) shows other interfaces: the ifindex must match what /proc/<pid>/net said.
 */
async function readPeerIfindex(host: Host, pid: number, names: string[], ifindex: Map<string, number>): Promise<Map<string, number>> {
  const peers = new Map<string, number>()
  for (const name of names) {
    const base = `/proc/${pid}/root/sys/class/net/${name}`
    const [own, peer] = await Promise.all([host.readFile(`${base}/ifindex`), host.readFile(`${base}/iflink`)])
    if (!own || !peer) continue
    const index = Number(own)
    if (ifindex.has(name) && ifindex.get(name) !== index) continue
    if (Number(peer) !== index) peers.set(name, Number(peer))
  }
  return peers
}

/**
 * The node-side end of a pod's veth. First the peer index the pod's own sysfs gives; else the
 * route the node uses to reach the pod IP (kindnet, ptp, calico: "<ip> dev vethX"); else, on a
 * bridge, the veth whose peer index is the pod's eth0 and whose peer namespace is the pod's
 * (matched through the netns name the runtime bind-mounted).
 */
export function pairHostVeth(network: HostNetwork, pod: PodNetwork, podNetnsInode: number | null): LinkRecord | undefined {
  const eth = pod.interfaces.find((i) => i.ips.length) ?? pod.interfaces[0]
  const peer = eth ? pod.peerIfindex.get(eth.name) : undefined
  const byPeer = peer === undefined ? undefined : network.links.find((l) => l.ifindex === peer)
  if (byPeer) return byPeer
  const podIndex = eth ? pod.ifindex.get(eth.name) : undefined
  for (const ip of pod.ips) {
    const route = longestPrefixMatch(network.routes, ip)
    const link = route && !route.via ? network.links.find((l) => l.name === route.dev) : undefined
    if (link && link.kind !== 'bridge' && link.iflink !== null && (podIndex === undefined || link.iflink === podIndex) && isSpecific(route!.destination)) return link
  }
  if (podIndex === undefined) return undefined
  const candidates = network.links.filter((l) => l.iflink === podIndex && l.kind !== 'bridge' && l.name !== 'lo' && (l.kind === 'veth' || l.kind === null))
  if (candidates.length <= 1) return candidates[0]
  const netnsName = podNetnsInode === null ? undefined : network.netnsByInode.get(podNetnsInode)
  if (!netnsName) return undefined
  return candidates.find((l) => l.linkNetnsId !== null && network.netnsNames.get(l.linkNetnsId) === netnsName)
}

/** A route just for the pod (or a small block of pods), not the node's whole subnet. */
function isSpecific(cidr: string): boolean {
  const [address, prefix] = parsePrefix(cidr)
  return address.kind() === 'ipv4' ? prefix >= 24 : prefix >= 64
}
