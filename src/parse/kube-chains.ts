// kube-proxy's chain names and what each chain does, as pure functions of the name, the way kube-proxy's
// own proxier names them (servicePortChainName, serviceLocalChainName, ...). The tracer asks these
// instead of matching names itself.

/** What a chain is for, in kube-proxy's iptables (and old userspace) mode. */
export type ChainRole =
  | 'services' // nat/filter KUBE-SERVICES: one rule per service frontend
  | 'nodeports' // KUBE-NODEPORTS: NodePort frontends (nat), health check ports (filter)
  | 'service-port' // KUBE-SVC-<hash>: picks an endpoint among all (Cluster traffic policy)
  | 'service-local' // KUBE-SVL-<hash>: picks among local endpoints (Local traffic policy)
  | 'service-external' // KUBE-EXT-<hash>: external destinations (NodePort, external IP, LB IP)
  | 'service-firewall' // KUBE-FW-<hash>: LoadBalancer source ranges
  | 'service-xlb' // KUBE-XLB-<hash>: external destinations with Local policy, before 1.21
  | 'endpoint' // KUBE-SEP-<hash>: DNAT to one endpoint
  | 'mark-masquerade' // KUBE-MARK-MASQ: sets the mark POSTROUTING masquerades
  | 'mark-drop' // KUBE-MARK-DROP: sets the mark KUBE-FIREWALL drops
  | 'portals' // KUBE-PORTALS-* / KUBE-NODEPORT-*: old userspace frontends
  | 'filter' // filter-only chains: KUBE-EXTERNAL-SERVICES, KUBE-FORWARD, KUBE-FIREWALL, KUBE-PROXY-FIREWALL
  | 'postrouting' // KUBE-POSTROUTING
  | 'canary' // KUBE-KUBELET-CANARY, KUBE-PROXY-CANARY, KUBE-IPTABLES-HINT: markers only

const PER_SERVICE_PORT: Record<string, ChainRole> = {
  SVC: 'service-port', SVL: 'service-local', EXT: 'service-external', FW: 'service-firewall', XLB: 'service-xlb', SEP: 'endpoint',
}
// no prototype: a chain named `constructor` or `toString` (any user may make one) is not kube-proxy's
const FIXED: Record<string, ChainRole | undefined> = Object.assign(Object.create(null) as Record<string, ChainRole | undefined>, {
  'KUBE-SERVICES': 'services',
  'KUBE-NODEPORTS': 'nodeports',
  'KUBE-MARK-MASQ': 'mark-masquerade',
  'KUBE-MARK-DROP': 'mark-drop',
  'KUBE-PORTALS-CONTAINER': 'portals',
  'KUBE-PORTALS-HOST': 'portals',
  'KUBE-NODEPORT-CONTAINER': 'portals',
  'KUBE-NODEPORT-HOST': 'portals',
  'KUBE-EXTERNAL-SERVICES': 'filter',
  'KUBE-FORWARD': 'filter',
  'KUBE-FIREWALL': 'filter',
  'KUBE-PROXY-FIREWALL': 'filter',
  'KUBE-POSTROUTING': 'postrouting',
  'KUBE-KUBELET-CANARY': 'canary',
  'KUBE-PROXY-CANARY': 'canary',
  'KUBE-IPTABLES-HINT': 'canary',
})

const PER_SERVICE_PREFIXES: Array<[string, ChainRole]> = Object.entries(PER_SERVICE_PORT).map(([family, role]) => [`KUBE-${family}-`, role])
/** The hash part of a per-service-port chain name; sticky, tested at an offset, so nothing is allocated per call. */
const HASH_AT = /[A-Z0-9]+$/y

/** Which of PER_SERVICE_PREFIXES a per-service-port chain name has (KUBE-SVC-, KUBE-FW-, ...); -1 for any other name. */
function perServicePrefix(name: string): number {
  if (!name.startsWith('KUBE-')) return -1
  // the family's first letter (SVC, SVL, SEP, EXT, FW, XLB): other names skip the prefix loop
  const c = name.charCodeAt(5)
  if (c !== 83 && c !== 69 && c !== 70 && c !== 88) return -1
  for (let i = 0; i < PER_SERVICE_PREFIXES.length; i++) {
    const prefix = PER_SERVICE_PREFIXES[i][0]
    if (!name.startsWith(prefix)) continue
    HASH_AT.lastIndex = prefix.length
    return HASH_AT.test(name) ? i : -1
  }
  return -1
}

/** The role of a chain kube-proxy made; null for chains of other components (DOCKER, cali-*, ...). */
export function chainRole(name: string): ChainRole | null {
  const fixed = FIXED[name]
  if (fixed) return fixed
  const i = perServicePrefix(name)
  return i < 0 ? null : PER_SERVICE_PREFIXES[i][1]
}

/** The hash a service port's chains share (KUBE-SVC-X, KUBE-EXT-X, ... -> X); null for endpoint and other chains. */
export function servicePortHash(name: string): string | null {
  const i = perServicePrefix(name)
  return i < 0 || PER_SERVICE_PREFIXES[i][1] === 'endpoint' ? null : name.slice(PER_SERVICE_PREFIXES[i][0].length)
}

export const servicePortChainName = (hash: string): string => `KUBE-SVC-${hash}`
export const serviceLocalChainName = (hash: string): string => `KUBE-SVL-${hash}`
export const serviceExternalChainName = (hash: string): string => `KUBE-EXT-${hash}`
export const serviceFirewallChainName = (hash: string): string => `KUBE-FW-${hash}`
/** Before kube-proxy 1.21, external traffic with Local policy went through KUBE-XLB. */
export const serviceXlbChainName = (hash: string): string => `KUBE-XLB-${hash}`

const SERVICE_CHAIN_ROLES = new Set<ChainRole>(['service-port', 'service-local', 'service-external', 'service-firewall', 'service-xlb'])

/** Chains kube-proxy makes per service port: KUBE-SVC, SVL, EXT, FW, XLB and the KUBE-SEP per endpoint. */
export function isPerServicePortChain(name: string): boolean {
  // no FIXED name has a per-service prefix: the prefix alone decides, without FIXED's lookup of
  // a fresh string (3 us a call, 10k calls for KUBE-SERVICES on svc NAME's critical path)
  return perServicePrefix(name) >= 0
}

/** KUBE-SEP-*: the chain of one endpoint. */
export function isEndpointChain(name: string): boolean {
  return name.startsWith('KUBE-SEP-')
}

/** The chains a service frontend may jump to (not KUBE-SEP). */
export function isServiceChain(name: string): boolean {
  const role = chainRole(name)
  return role !== null && SERVICE_CHAIN_ROLES.has(role)
}

/** nat chains kube-proxy's frontend rules live in, in the order it fills them. */
export const FRONTEND_CHAINS = ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-PORTALS-CONTAINER', 'KUBE-PORTALS-HOST', 'KUBE-NODEPORT-CONTAINER', 'KUBE-NODEPORT-HOST'] as const

/** Frontend chains whose rules match a port on any local address. */
export function isNodePortChain(name: string): boolean {
  return name === 'KUBE-NODEPORTS' || name === 'KUBE-NODEPORT-CONTAINER' || name === 'KUBE-NODEPORT-HOST'
}

/** Entry chains a service's frontends hang from; a capture without them cannot name frontends. */
export const ENTRY_CHAINS = ['KUBE-SERVICES', 'KUBE-NODEPORTS'] as const

/** filter chains holding kube-proxy's REJECT/DROP rules, in the order a packet meets them. */
export const FILTER_VERDICT_CHAINS = ['KUBE-PROXY-FIREWALL', 'KUBE-NODEPORTS', 'KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES'] as const

/** Where kube-proxy hooks its nat entry chain: [built-in chain, entry chain]. */
export const NAT_HOOKS = [['PREROUTING', 'KUBE-SERVICES'], ['OUTPUT', 'KUBE-SERVICES']] as const

const NAT_ONLY = new Set(['PREROUTING', 'POSTROUTING', 'DOCKER_OUTPUT', 'DOCKER_POSTROUTING', 'KIND-MASQ-AGENT', 'IP-MASQ-AGENT'])
const FILTER_TARGETS = new Set(['ACCEPT', 'REJECT', 'DROP'])
const NAT_TARGETS = new Set(['DNAT', 'SNAT', 'MASQUERADE', 'REDIRECT', 'NETMAP'])

/**
 * Which table a rule of a dump with no `*table` header belongs to (`iptables-save | grep` mixes tables):
 * kube-proxy's filter-only chains are filter; KUBE-SERVICES and KUBE-NODEPORTS exist in both, told apart
 * by the target (REJECT/DROP/ACCEPT only in filter); null when name and target say nothing.
 */
export function tableOfRule(chain: string, target: string | null): 'nat' | 'filter' | null {
  const role = chainRole(chain)
  if (role === 'filter') return 'filter'
  if (role === 'services' || role === 'nodeports') {
    if (target && FILTER_TARGETS.has(target)) return 'filter'
    return 'nat'
  }
  if (role !== null || NAT_ONLY.has(chain)) return 'nat'
  if (target && NAT_TARGETS.has(target)) return 'nat'
  return null
}

/** nftables mode: service-<HASH8>-ns/svc/proto/port, endpoint-<HASH8>-ns/svc/proto/port__ip/port, ... */
const NFT_CHAIN = /^(service|external|firewall|endpoint)-([A-Z0-9]{8})-([^/]+\/[^/]+\/[^/]+\/[^_]*)(__.*)?$/

export interface NftServiceChain {
  role: 'service' | 'external' | 'firewall' | 'endpoint'
  hash: string
  /** "ns/svc/proto/port" */
  servicePort: string
}

/** What an nftables-mode kube-proxy chain name says; null for its fixed chains and anything else. */
export function nftServiceChain(name: string): NftServiceChain | null {
  const m = NFT_CHAIN.exec(name)
  return m ? {role: m[1] as NftServiceChain['role'], hash: m[2], servicePort: m[3]} : null
}

/** "ns1/svc1/tcp/p80" -> {service: "ns1/svc1:p80", protocol: "tcp"}, the name iptables-mode comments use. */
export function nftServicePortName(servicePort: string): {service: string; protocol: string} {
  const [ns, name, protocol, port] = servicePort.split('/')
  return {service: port ? `${ns}/${name}:${port}` : `${ns}/${name}`, protocol}
}
