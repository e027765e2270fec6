// The records `nodedoc svc --probe` and `probeService()` report. JSON keys are part of the
// schema (docs/probe.md): add, never rename.

import type {DnsAnswer, DnsQuestion} from './dns.js'

export type ProbeProtocol = 'tcp' | 'udp'

/** One frontend of a Service: a ClusterIP, external IP or LoadBalancer IP, and a port. */
export interface ProbeTarget {
  ip: string
  port: number
  protocol: ProbeProtocol
}

/** Where the probing connections start: the node's own network namespace, or a pod's. */
export type ProbeSource =
  | {kind: 'node'}
  | {kind: 'pod'; namespace: string | null; name: string | null; uid: string; /** the sandbox (pause) PID whose netns is entered */ pid: number; ip: string | null}

export type ProbeResultKind = 'answered' | 'refused' | 'timedOut' | 'error'

/** One connection (tcp) or datagram (udp) and what became of it. */
export interface ProbeAttempt {
  /** the source port the client bound (nodedoc picks it, so the conntrack entry can be found) */
  sourcePort: number
  /** the client's own address, as its socket saw it */
  sourceIp: string | null
  /** answered: tcp connected / udp reply came; refused: RST or ICMP port unreachable; timedOut: nothing came back */
  result: ProbeResultKind
  /** the errno name behind refused/error (ECONNREFUSED, EHOSTUNREACH, ...) */
  error: string | null
  ms: number
  /** the reply tuple's source in conntrack: where the kernel really sent the flow (the DNAT target); null when no entry (refused before conntrack confirmed one) */
  endpoint: {ip: string; port: number | null} | null
  /** the conntrack entry as read right after the attempts; null when there was none */
  conntrack: {state: string | null; replied: boolean} | null
  /** for a DNS query (udp port 53): what the answer said; null when no answer or not DNS */
  dns?: DnsAnswer | null
}

export interface FrontendProbe {
  target: ProbeTarget
  sent: number
  answered: number
  refused: number
  timedOut: number
  errors: number
  attempts: ProbeAttempt[]
}

export interface ProbeOptions {
  /** where the traffic starts (default: the node) */
  from?: ProbeSource
  /** connections or datagrams to send (default 20) */
  count?: number
  /** per attempt (default 3000 ms) */
  timeoutMs?: number
  /** attempts in flight at once after the first, which goes alone so session affinity can take hold (default 8) */
  concurrency?: number
  /** the question a udp port-53 probe asks (default kubernetes.default.svc.cluster.local A) */
  dns?: DnsQuestion
  /** Ctrl-C: stop, then remove what was added */
  signal?: AbortSignal
}

/** Per endpoint: what the rules predicted and where the probes really went. */
export interface EndpointTally {
  ip: string
  port: number | null
  /** share of new connections the rules predict (svc's effective probability) */
  predicted: number
  observed: number
  /** the rule chain that DNATs to it (KUBE-SEP-*, endpoint-*) */
  chain: string | null
}

/** `probe` in `svc --probe -o json`. */
export interface ServiceProbeReport {
  from: ProbeSource
  count: number
  sent: number
  answered: number
  refused: number
  timedOut: number
  errors: number
  endpoints: EndpointTally[]
  /** flows that went somewhere no predicted endpoint is */
  unpredicted: Array<{ip: string; port: number | null; observed: number}>
  chiSquare: number | null
  degreesOfFreedom: number | null
  pValue: number | null
  /** ClientIP affinity predicted, and every answered probe went to one endpoint */
  affinityHeld: boolean | null
  /** what the rules predict for a new connection: DNAT, or the verdict (REJECT ...) */
  predictedVerdict: string
  frontends: FrontendProbe[]
  /** frontends not probed, and why (NodePorts: no address of their own) */
  skipped: string[]
  /** differences between prediction and observation; any makes the exit code 1 */
  findings: string[]
  /** what was added to the node and removed again */
  cleanup: string[]
}
