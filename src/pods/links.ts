import {type Host, hostPath} from '../host/host.js'
import {type LinkRecord, parseIpLinkJson, parseNetnsListId} from '../parse/net.js'
import {oncePerHost} from './once-per-host.js'

/** The node's links: `ip -j -d link show`, else what /sys/class/net tells. */
export const gatherHostLinks = oncePerHost(readHostLinks)

async function readHostLinks(host: Host): Promise<LinkRecord[]> {
  const result = await host.run(['ip', '-j', '-d', 'link', 'show'])
  if (result && result.exitCode === 0 && result.stdout.trim()) {
    try {
      return parseIpLinkJson(result.stdout)
    } catch (error) {
      host.warnings.add('parse:ip link', `${(error as Error).message}; using /sys/class/net`)
    }
  }
  // no iproute2: sysfs knows index, peer index, bridge membership; "bridge/" marks a bridge
  const links: LinkRecord[] = []
  for (const entry of (await host.readDir('/sys/class/net')) ?? []) {
    const base = hostPath('/sys/class/net', entry.name)
    const [ifindex, iflink, master, bridgeDir, operstate, address] = await Promise.all([
      host.readFile(`${base}/ifindex`), host.readFile(`${base}/iflink`), host.readLink(`${base}/master`),
      host.stat(`${base}/bridge`), host.readFile(`${base}/operstate`), host.readFile(`${base}/address`),
    ])
    if (!ifindex) continue
    const index = Number(ifindex)
    const peer = iflink ? Number(iflink) : null
    links.push({
      name: entry.name,
      ifindex: index,
      iflink: peer !== null && peer !== index ? peer : null,
      linkNetnsId: null,
      kind: bridgeDir ? 'bridge' : peer !== null && peer !== index ? 'veth' : null,
      master: master ? master.split('/').at(-1)! : null,
      mac: address?.trim() ?? null,
      state: operstate?.trim().toUpperCase() ?? null,
    })
  }
  // ip lists by ifindex; readdir order is the filesystem's
  return links.sort((a, b) => a.ifindex - b.ifindex)
}

/** nsid (as the node numbers a peer namespace) -> its name under /run/netns: `ip -j netns list-id`. */
export const gatherNetnsIds = oncePerHost(readNetnsIds)

async function readNetnsIds(host: Host): Promise<Map<number, string>> {
  const result = await host.run(['ip', '-j', 'netns', 'list-id'])
  if (!result || result.exitCode !== 0) return new Map()
  try {
    return parseNetnsListId(result.stdout)
  } catch {
    return new Map()
  }
}
