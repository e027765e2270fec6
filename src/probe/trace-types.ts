// The records `nodedoc trace` reports. JSON keys are part of the schema (docs/probe.md): add,
// never rename.

import type {ProbeSource, ProbeTarget} from './types.js'

/**
 * How the packet is marked and heard: iptables-nft (our nft table sets nftrace,
 * xtables-monitor prints iptables-nft's rules), iptables-legacy (a raw-table TRACE rule, the
 * kernel log), nftables (our nft table, `nft monitor trace` over kube-proxy's table).
 */
export type TraceMode = 'iptables-nft' | 'iptables-legacy' | 'nftables'

/** One step of the packet through the rules, as the kernel reported it. */
export interface TraceHop {
  family: string
  table: string
  chain: string
  /** rule: a rule matched; policy: a built-in/base chain's policy decided; return: fell off the end of a chain */
  kind: 'rule' | 'policy' | 'return'
  /** 1-based rule number within the chain; null for a policy (and when the rule could not be found again) */
  position: number | null
  /** nf_tables rule handle */
  handle: number | null
  /** the rule, in the rule set's own syntax (iptables-save line, nft statement); null when unknown */
  rule: string | null
  /** jump X, goto X, accept, drop, continue, return */
  verdict: string | null
}

export interface TraceReport {
  mode: TraceMode
  from: ProbeSource
  to: ProbeTarget
  /** "namespace/name:port" of the service whose frontend this is */
  service: string | null
  /** the one packet: its source port, and what became of the connection (or datagram) */
  packet: {sourcePort: number; sourceIp: string | null; result: string; error: string | null; ms: number}
  /** conntrack's reply tuple source for the flow: where the kernel sent it */
  conntrack: {ip: string; port: number | null; state: string | null} | null
  trace: {hops: TraceHop[]}
  predicted: {route: string[]; verdict: string; source: string}
  observed: {route: string[]; verdict: string; dnat: {ip: string; port: number | null} | null}
  /** predicted and observed differ: each is a finding, and the exit code is 1 */
  differences: string[]
  /** what was added to the node and removed again */
  cleanup: string[]
  notes: string[]
}
