// A network namespace seen through /proc/<pid>/net/* (no nsenter needed), and links from `ip -j -d link`.

import {int, jsonArray, record, str} from './json.js'

/** /proc/<pid>/net/fib_trie: the addresses marked "host LOCAL", i.e. the namespace's own IPv4 addresses. */
export function parseFibTrieLocal(text: string): string[] {
  const local = new Set<string>()
  let current: string | undefined
  for (const line of text.split('\n')) {
    const leaf = /\|--\s+(\d+\.\d+\.\d+\.\d+)/.exec(line)
    if (leaf) {
      current = leaf[1]
      continue
    }
    if (current && /\/32 host LOCAL/.test(line)) local.add(current)
  }
  return [...local]
}

/** /proc/<pid>/net/dev: interface names. */
export function parseNetDev(text: string): string[] {
  return text
    .split('\n')
    .slice(2)
    .map((line) => line.split(':')[0].trim())
    .filter(Boolean)
}

export interface Inet6Address {
  address: string
  ifindex: number
  prefixLength: number
  scope: 'global' | 'link' | 'host' | 'site' | 'other'
  device: string
}

const SCOPES: Record<string, Inet6Address['scope']> = {'00': 'global', '20': 'link', '10': 'host', '40': 'site'}

/** /proc/<pid>/net/if_inet6: "addr ifindex prefixlen scope flags device", all hex. */
export function parseIfInet6(text: string): Inet6Address[] {
  const out: Inet6Address[] = []
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/)
    if (f.length < 6 || f[0].length !== 32) continue
    const groups = f[0].match(/.{4}/g)!.map((g) => g.replace(/^0+(?=.)/, ''))
    out.push({
      address: compressIPv6(groups),
      ifindex: Number.parseInt(f[1], 16),
      prefixLength: Number.parseInt(f[2], 16),
      scope: SCOPES[f[3]] ?? 'other',
      device: f[5],
    })
  }
  return out
}

/** Eight hex groups as ip writes them: the longest run of two or more zero groups as "::". */
export function compressIPv6(groups: string[]): string {
  // the longest run of zero groups becomes "::"
  let bestStart = -1
  let bestLength = 0
  for (let i = 0; i < groups.length;) {
    if (groups[i] !== '0') {
      i++
      continue
    }
    let j = i
    while (j < groups.length && groups[j] === '0') j++
    if (j - i > bestLength && j - i > 1) {
      bestStart = i
      bestLength = j - i
    }
    i = j
  }
  if (bestStart < 0) return groups.join(':')
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLength).join(':')}`
}

/** /proc/<pid>/net/igmp: "Idx Device" rows give each interface's ifindex in that namespace. */
export function parseIgmpIfindex(text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n').slice(1)) {
    const match = /^(\d+)\s+(\S+)\s*:/.exec(line)
    if (match) out.set(match[2], Number(match[1]))
  }
  return out
}

export interface LinkRecord {
  name: string
  ifindex: number
  /** the peer's ifindex (veth) or the lower device's */
  iflink: number | null
  /** the namespace id of the peer as this namespace numbers it (`ip netns list-id`) */
  linkNetnsId: number | null
  kind: string | null
  master: string | null
  mac: string | null
  state: string | null
}

/** `ip -j -d link show`. JsonShapeError when it is not a JSON array; elements without a name and index are skipped. */
export function parseIpLinkJson(text: string): LinkRecord[] {
  const links: LinkRecord[] = []
  for (const item of jsonArray(text, 'ip -j link')) {
    const l = record(item)
    const name = str(l?.ifname)
    const ifindex = int(l?.ifindex)
    if (!l || name === undefined || ifindex === undefined) continue
    links.push({
      name,
      ifindex,
      iflink: int(l.link_index) ?? null,
      linkNetnsId: int(l.link_netnsid) ?? null,
      kind: str(record(l.linkinfo)?.info_kind) ?? null,
      master: str(l.master) ?? null,
      mac: str(l.address) ?? null,
      state: str(l.operstate) ?? null,
    })
  }
  return links
}

/** `ip -j netns list-id`: [{nsid, name}] for the named namespaces this one has ids for. */
export function parseNetnsListId(text: string): Map<number, string> {
  const out = new Map<number, string>()
  if (!text.trim()) return out
  for (const item of jsonArray(text, 'ip -j netns list-id')) {
    const entry = record(item)
    const nsid = int(entry?.nsid)
    const name = str(entry?.name)
    if (nsid !== undefined && name) out.set(nsid, name)
  }
  return out
}
