import ipaddr from 'ipaddr.js'
import {int, jsonArray, record, str} from './json.js'

/** One route, from `ip -j route show table all` or /proc/net/route. */
export interface Route {
  /** CIDR, "0.0.0.0/0" for default */
  destination: string
  /** the device; for blackhole/unreachable/prohibit routes, which have none, the type */
  dev: string
  via: string | null
  scope: string | null
  table: string
  type: string
  protocol: string | null
  prefsrc: string | null
}

/** The one address a /32 (IPv4) or /128 (IPv6) names, as written; null for a wider range. */
export function singleAddress(cidr: string): string | null {
  const slash = cidr.indexOf('/')
  if (slash < 0) return null
  const ip = cidr.slice(0, slash)
  const bits = cidr.slice(slash + 1)
  return (bits === '32' && !ip.includes(':')) || (bits === '128' && ip.includes(':')) ? ip : null
}

/** An address as a CIDR: itself when it has a prefix, else the /32 (IPv4) or /128 (IPv6) of that one address. */
export function asCidr(address: string): string {
  if (address.includes('/')) return address
  return address.includes(':') ? `${address}/128` : `${address}/32`
}

function withPrefix(dst: string, family: 4 | 6): string {
  if (dst === 'default') return family === 4 ? '0.0.0.0/0' : '::/0'
  return asCidr(dst)
}

/** `ip -j route show table all` (or `ip -j -6 route ...`). JsonShapeError when it is not a JSON array; elements without a dst are skipped. */
export function parseIpRouteJson(text: string): Route[] {
  const routes: Route[] = []
  for (const item of jsonArray(text, 'ip -j route')) {
    const r = record(item)
    const dst = str(r?.dst)
    if (!r || !dst) continue
    const [dev, gateway, scope, table, type, protocol, prefsrc] = [r.dev, r.gateway, r.scope, r.table, r.type, r.protocol, r.prefsrc].map(str)
    const family = dst.includes(':') || gateway?.includes(':') || prefsrc?.includes(':') ? 6 : 4
    routes.push({
      destination: withPrefix(dst, family),
      // blackhole, unreachable and prohibit routes have no device: the type stands in for it
      dev: dev ?? type ?? 'unicast',
      via: gateway ?? null,
      scope: scope ?? (gateway ? 'global' : null),
      // `ip` prints table numbers it has no name for as numbers
      table: table ?? (int(r.table) !== undefined ? String(r.table) : 'main'),
      type: type ?? 'unicast',
      protocol: protocol ?? null,
      prefsrc: prefsrc ?? null,
    })
  }
  return routes
}

function hexToIPv4(hex: string): string {
  // /proc/net/route holds addresses in host (little-endian) byte order
  const n = Number.parseInt(hex, 16)
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff].join('.')
}

function maskToPrefix(mask: string): number {
  return ipaddr.IPv4.parse(mask).prefixLengthFromSubnetMask() ?? 0
}

const RTF_GATEWAY = 0x2
// the kernel flags unreachable and prohibit routes (fib_flag_trans); /proc/net/route cannot tell them apart
const RTF_REJECT = 0x200

/** /proc/<pid>/net/route: the main IPv4 table of that process's network namespace. */
export function parseProcNetRoute(text: string): Route[] {
  const routes: Route[] = []
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/)
    if (f.length < 8) continue
    const [dev, dstHex, gwHex, flagsHex, , , , maskHex] = f
    const flags = Number.parseInt(flagsHex, 16)
    const prefix = maskToPrefix(hexToIPv4(maskHex))
    const gateway = flags & RTF_GATEWAY ? hexToIPv4(gwHex) : null
    const reject = (flags & RTF_REJECT) !== 0
    routes.push({
      destination: `${hexToIPv4(dstHex)}/${prefix}`,
      // no device ("*"): the type stands in for it, as for ip -j route
      dev: reject && dev === '*' ? 'unreachable' : dev,
      via: gateway,
      // /proc/net/route has no scope column; without a gateway the route is on-link
      scope: gateway ? 'global' : 'link',
      table: 'main',
      type: reject ? 'unreachable' : 'unicast',
      protocol: null,
      prefsrc: null,
    })
  }
  return routes
}

/**
 * A CIDR, parsed by the family its text shows: ipaddr.parseCIDR tries IPv6 first and throws (an
 * Error with its stack) for every IPv4 CIDR, which adds up over a node's routes.
 */
export function parsePrefix(cidr: string): [ipaddr.IPv4 | ipaddr.IPv6, number] {
  return cidr.includes(':') ? ipaddr.IPv6.parseCIDR(cidr) : ipaddr.IPv4.parseCIDR(cidr)
}

/** An address, likewise by family (ipaddr.parse runs the IPv6 parser on every IPv4 address first). */
function parseAddress(ip: string): ipaddr.IPv4 | ipaddr.IPv6 {
  return ip.includes(':') ? ipaddr.IPv6.parse(ip) : ipaddr.IPv4.parse(ip)
}

function prefixLength(cidr: string): number {
  return Number(cidr.split('/')[1])
}

/** The route the kernel would pick in the main table for this address: longest prefix, then lowest metric order. */
export function longestPrefixMatch(routes: Route[], ip: string): Route | undefined {
  let address: ipaddr.IPv4 | ipaddr.IPv6
  try {
    address = parseAddress(ip)
  } catch {
    return undefined
  }
  let best: Route | undefined
  for (const route of routes) {
    if (route.table !== 'main' || !['unicast', 'blackhole', 'unreachable', 'prohibit'].includes(route.type)) continue
    let net: [ipaddr.IPv4 | ipaddr.IPv6, number]
    try {
      net = parsePrefix(route.destination)
    } catch {
      continue
    }
    if (net[0].kind() !== address.kind() || !address.match(net)) continue
    if (!best || prefixLength(route.destination) > prefixLength(best.destination)) best = route
  }
  return best
}

const ROUTE_TYPES = new Set(['unicast', 'local', 'broadcast', 'multicast', 'blackhole', 'unreachable', 'prohibit', 'throw', 'nat', 'anycast'])

/** Plain `ip route` text (as people paste it and old captures hold it), into the same records. */
export function parseIpRouteText(text: string): Route[] {
  const routes: Route[] = []
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/).filter(Boolean)
    if (!f.length) continue
    const type = ROUTE_TYPES.has(f[0]) ? f.shift()! : 'unicast'
    const dst = f.shift()
    if (!dst) continue
    const at = (key: string) => (f.includes(key) ? f[f.indexOf(key) + 1] : undefined)
    const family = dst.includes(':') ? 6 : 4
    routes.push({
      destination: withPrefix(dst, family),
      dev: at('dev') ?? type,
      via: at('via') ?? null,
      scope: at('scope') ?? null,
      table: at('table') ?? 'main',
      type,
      protocol: at('proto') ?? null,
      prefsrc: at('src') ?? null,
    })
  }
  return routes
}
