// The records `fs`, `sockets`, `conntrack` and `enter` report. JSON keys are part of the
// schema (docs/schema.md): add, never rename.

import type {RootEntryType} from '../host/root-reader.js'
import type {ContainerRef, PodRef} from '../pods/types.js'
import type {ConntrackTuple} from '../parse/conntrack.js'

/** A process that holds a socket, as `ss -p` shows it. */
export interface SocketOwner {
  pid: number
  fd: number
  command: string
  container: ContainerRef | null
}

/** One socket of a pod's network namespace: one line of `ss -tuxanp` run inside the pod. */
export interface SocketRecord {
  pod: PodRef
  protocol: 'tcp' | 'udp' | 'unix'
  family: 'ipv4' | 'ipv6' | 'unix'
  /** unix sockets: stream, dgram or seqpacket */
  type?: string
  /** TCP state in the kernel's words (LISTEN, ESTABLISHED, TIME_WAIT...); udp and unix: UNCONN, ESTABLISHED, LISTEN as ss says */
  state: string
  /** null for unix sockets */
  localAddress: string | null
  localPort: number | null
  peerAddress: string | null
  peerPort: number | null
  /** unix sockets: the bound path ("@name" when abstract); null otherwise or when unbound */
  path: string | null
  sendQueue: number | null
  recvQueue: number | null
  inode: number
  /** the network namespace the socket lives in */
  netnsInode: number | null
  /** processes holding it (fd links to socket:[inode]); empty for sockets no file holds (TIME_WAIT) */
  owners: SocketOwner[]
}

/** The mount that holds a path, as `pod` reports the container's mounts. */
export interface OwningMount {
  destination: string
  source: string
  fsType: string
  readOnly: boolean
  volume: {name: string; plugin: string} | null
}

/** Which overlay layer holds an entry of the container's root filesystem. */
export interface OverlayLayer {
  /** upper: written in the container; lower: from the image (0 is the topmost image layer) */
  kind: 'upper' | 'lower'
  index: number
  /** the layer's folder on the node */
  dir: string
}

/** One entry of a container's filesystem. */
export interface FileRecord {
  /** where it is in the container (every link on the way followed inside the container) */
  path: string
  name: string
  type: RootEntryType
  size: number
  /** "0644"; null in a snapshot */
  mode: string | null
  uid: number | null
  gid: number | null
  modified: string | null
  linkTarget: string | null
  mount: OwningMount | null
  /** set for entries of the overlay root filesystem when the layer was looked up */
  layer?: OverlayLayer | null
  /** --du: bytes of everything below (apparent sizes), and whether the walk stopped at a limit */
  totalBytes?: number
  incomplete?: boolean
}

/** A file read with --cat. */
export interface FileContent {
  path: string
  /** the path as asked, when links led elsewhere */
  requested: string
  size: number
  /** bytes shown; the rest was not read (the cap) */
  bytes: number
  truncated: boolean
  mount: OwningMount | null
  /** utf8 text, or base64 for anything that is not valid UTF-8 */
  encoding: 'utf8' | 'base64'
  /** null when withheld: a secret or service-account token without --show-secrets */
  content: string | null
  withheld: string | null
}

/** One pod at one end of a tracked connection. */
export interface ConntrackEnd {
  pod: PodRef
  address: string
}

/** One conntrack entry, with the pods at its ends. */
export interface ConntrackRecord {
  family: 'ipv4' | 'ipv6' | null
  protocol: string
  state: string | null
  timeoutSeconds: number | null
  /** null unless the kernel stamps entries (net.netfilter.nf_conntrack_timestamp=1) */
  ageSeconds: number | null
  original: ConntrackTuple
  reply: ConntrackTuple
  /** dnat: answered from elsewhere than asked (a Service); snat: answered to elsewhere (masquerade) */
  nat: {dnat: boolean; snat: boolean}
  flags: string[]
  mark: number | null
  zone: number | null
  /** the pod that opened the connection (original source) */
  client: ConntrackEnd | null
  /** the pod that answers it (reply source: after DNAT, the endpoint) */
  server: ConntrackEnd | null
  /** the Service port whose frontend the original destination is ("ns/name:port"), with --svc */
  service: string | null
}

/** A namespace `enter` joined. */
export interface EnteredNamespace {
  type: 'net' | 'mnt' | 'pid' | 'uts' | 'ipc'
  inode: number | null
  /** the ns file nsenter was given */
  file: string
}

export interface EnterRecord {
  pod: PodRef
  container: ContainerRef | null
  /** the process whose namespaces are joined */
  pid: number
  namespaces: EnteredNamespace[]
  argv: string[]
}
