// host-local style IPAM for sandboxes: the first free address of the range, the range's first
// address as the gateway, one lease file per address.

import ipaddr from 'ipaddr.js'

export interface PodAddress {
  podIp: string
  gateway: string
  prefixLength: number
  cidr: string
}

/** Parses an IPv4 CIDR ("10.250.0.0/24"); throws a one-line error otherwise. */
export function parseCidr(cidr: string): {network: number; prefixLength: number; cidr: string} {
  let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number]
  try {
    parsed = ipaddr.parseCIDR(cidr)
  } catch {
    throw new Error(`--pod-cidr ${cidr}: not a CIDR (e.g. 10.250.0.0/24)`)
  }
  const [addr, prefixLength] = parsed
  if (addr.kind() !== 'ipv4') throw new Error(`--pod-cidr ${cidr}: only IPv4 ranges are supported`)
  if (prefixLength > 30) throw new Error(`--pod-cidr ${cidr}: too small (at most /30)`)
  const mask = prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0
  const network = (toInt(addr.toString()) & mask) >>> 0
  return {network, prefixLength, cidr: `${fromInt(network)}/${prefixLength}`}
}

export function toInt(ip: string): number {
  return ip.split('.').reduce((n, octet) => ((n << 8) + Number(octet)) >>> 0, 0)
}

export function fromInt(n: number): string {
  return [24, 16, 8, 0].map((shift) => (n >>> shift) & 255).join('.')
}

/** The lowest free host address after the gateway; taken: addresses already leased. */
export function pickPodAddress(cidr: string, taken: Iterable<string>): PodAddress {
  const range = parseCidr(cidr)
  const used = new Set(taken)
  const size = 2 ** (32 - range.prefixLength)
  const gateway = fromInt(range.network + 1)
  for (let offset = 2; offset < size - 1; offset++) {
    const ip = fromInt(range.network + offset)
    if (!used.has(ip)) return {podIp: ip, gateway, prefixLength: range.prefixLength, cidr: range.cidr}
  }
  throw new Error(`--pod-cidr ${range.cidr}: no free address left`)
}
