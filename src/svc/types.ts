// The records `nodedoc svc` reports. JSON keys are part of the schema: add, never rename.
// Other commands read these too (the traced path, endpoints and verdicts): keep them stable.

import type {SkippedLines} from '../parse/pasted-text.js'

export type FrontendKind = 'clusterIP' | 'nodePort' | 'externalIP' | 'loadBalancer'

/** One rule a packet passes through. */
export interface PathHop {
  table: string
  chain: string
  rule: string
  /** Share of the packets that reach this rule and take it (statistic splits), when below 1. */
  probability?: number
  /** What else must hold for the rule to match (source, mark, affinity...), when anything. */
  condition?: string
}

/** What the filter table (or the chain's end) does with packets nat did not DNAT. */
export interface Verdict {
  target: string
  table: string
  chain: string
  rule: string | null
  comment: string | null
}

export interface Frontend {
  kind: FrontendKind
  /** null for a NodePort (any local address) */
  ip: string | null
  port: number
  /** The chain the frontend rule jumps to. */
  chain: string | null
  /** KUBE-FW-* for a LoadBalancer IP with source ranges */
  via?: string
  sourceRanges?: string[]
  /** Share of new connections DNATed whatever their source. */
  dnatProbability: number
  /** Conditions under which the rest is DNATed too (pod sources, local sources, LB ranges). */
  dnatWhen: string[]
  /** What happens to packets not DNATed; null when every packet is DNATed. */
  otherwise: Verdict | null
  /** Also answered on 127.0.0.0/8 (localhost NodePort rule). */
  localhost?: boolean
  /**
   * Share of new connections whose fate the rules read do not show: a jump to a chain that is not in
   * them, or the cut-off end of a service chain in a partial capture. dnatProbability + unknownShare <= 1.
   */
  unknownShare?: number
  /** When this frontend's packets are marked for masquerade on their way to any endpoint ("always" when unconditionally). */
  masqueradeWhen?: string[]
  /** Set when the kernel never sends this frontend's packets to kube-proxy's chains: "not hooked: nat PREROUTING does not jump to KUBE-SERVICES". */
  notHooked?: string
}

/** A share of new connections the rules read cannot follow, and why. */
export interface UnknownShare {
  /** the chain the rules do not show (or whose end is cut) */
  chain: string
  share: number
  /** "chain KUBE-SEP-... not in the rules", "the rest of KUBE-EXT-... is not in the capture" */
  reason: string
}

export interface EndpointTrace {
  ip: string
  port: number | null
  /** Effective share of new connections: this rule's probability times what earlier rules left. */
  probability: number
  /** The --probability written on the rule that picks it; null for the catch-all last rule. */
  ruleProbability: number | null
  /** The KUBE-SEP-* chain (or whatever chain holds the DNAT). */
  chain: string
  location: 'local' | 'remote' | 'unknown'
  /** Why location is unknown when it is not for want of a route: "rules from a file". */
  locationNote?: string
  pod: {namespace: string | null; name: string | null; uid: string} | null
  route: {dev: string; via: string | null; destination?: string} | null
  /** Conditions under which the endpoint's own rules mark for masquerade (hairpin). */
  masqueradeWhen: string[]
  /** Reached only under a condition (affinity, local traffic), not by the random split. */
  conditional?: string
  problems: string[]
}

export interface SessionAffinity {
  type: 'ClientIP'
  timeoutSeconds: number | null
}

export interface ServiceTrace {
  /** "namespace/name:port" as kube-proxy names the service port (from rule comments); null when nothing names it. */
  service: string | null
  protocol: string
  mode: 'iptables' | 'nftables' | 'ipvs' | 'userspace'
  /** The chain that picks an endpoint (KUBE-SVC-*, KUBE-SVL-*, service-*). */
  chain: string | null
  frontends: Frontend[]
  endpoints: EndpointTrace[]
  /** Endpoints of the KUBE-SVL chain (local endpoints), when it exists beside KUBE-SVC. */
  localEndpoints?: EndpointTrace[]
  /** What the endpoint-picking chain leads to that the rules read do not show; endpoint shares + unknown shares = 1. */
  unknown?: UnknownShare[]
  sessionAffinity: SessionAffinity | null
  /** When packets get the masquerade mark (so are SNATed on the way out). */
  masquerade: Array<{chain: string; when: string}>
  externalTrafficPolicy: 'Cluster' | 'Local' | null
  internalTrafficPolicy: 'Cluster' | 'Local' | null
  healthCheckNodePort: number | null
  /**
   * "DNAT", or what happens to a new connection to the first frontend, e.g. 'REJECT (filter KUBE-SERVICES "... has no endpoints")',
   * "unknown: chain KUBE-SEP-... not in the rules", "not hooked: nat PREROUTING does not jump to KUBE-SERVICES";
   * joined with ", else " when several hold for parts of the traffic.
   */
  verdict: string
  problems: string[]
  path: PathHop[]
}

/** A frontend whose jump target does not exist in the rules read (partial input). */
export interface UnresolvedFrontend {
  service: string | null
  ip: string | null
  port: number
  protocol: string
  chain: string
}

export interface ProxyTrace {
  mode: 'iptables' | 'nftables' | 'ipvs' | 'userspace' | 'none'
  /** Which rule set was read: nft, legacy, a file... */
  source: string
  masqueradeMark: string | null
  /** The CIDR kube-proxy treats as pod traffic (! -s CIDR -j KUBE-MARK-MASQ). */
  clusterCIDR: string | null
  services: ServiceTrace[]
  unresolved: UnresolvedFrontend[]
  problems: string[]
  /** Parser notes: guessed tables, truncation, deleted chains, skipped lines. */
  notes: string[]
  /** Why the rules read are not a whole rule set (a pasted or cut capture); empty or absent when whole. */
  partial?: string[]
  /** Lines of the input that are not rules, one entry per kind. */
  skipped?: SkippedLines[]
  /** kube-proxy entry chains (nat KUBE-SERVICES, KUBE-NODEPORTS) the rules read lack. */
  missingEntryChains?: string[]
  /** Per-service-port chains nothing jumps to (svc -A only). */
  unreferencedChains?: Array<{table: string; chain: string}>
  /** Chains rules jump to that the rules read do not hold, each once (svc -A only). */
  missingChains?: Array<{table: string; chain: string; jumps: number; firstLine: number}>
}
