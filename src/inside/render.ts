import type {RootEntryType} from '../host/root-reader.js'
import type {PodRef} from '../pods/types.js'
import type {ConntrackTuple} from '../parse/conntrack.js'
import {escapeControl} from '../output/escape.js'
import type {DocumentShape} from '../output/output.js'
import {age, columns} from '../output/table.js'
import type {ConntrackRecord, EnterRecord, FileContent, FileRecord, OwningMount, SocketRecord} from './types.js'

// Table views. Everything a pod controls (names, paths, link targets, commands) is escaped:
// it must not drive the operator's terminal.

const clean = (text: string | null | undefined): string | undefined => (text === null || text === undefined ? undefined : escapeControl(text))

function pod(ref: PodRef | null | undefined): string | undefined {
  return ref ? `${ref.namespace ?? '?'}/${ref.name ?? ref.uid}` : undefined
}

function endpoint(address: string | null, port: number | null): string {
  if (address === null) return '*'
  const host = address.includes(':') ? `[${address}]` : address
  return `${host === '0.0.0.0' || host === '[::]' ? '*' : host}:${port === 0 ? '*' : port}`
}

// ---- sockets ----

/**
 * `ss -tuxanp` as run in the pod. The default table fits 80 columns: the POD column only when
 * the sockets span pods, the process as `name,pid=N`; -o wide adds the queues, the fd, the
 * whole command, the container, inode and netns.
 */
export function socketsTable(items: SocketRecord[], wide: boolean): string {
  const manyPods = wide || new Set(items.map((s) => s.pod.uid)).size > 1
  const head = [...(manyPods ? ['pod'] : []), 'netid', 'state', ...(wide ? ['recv-q', 'send-q'] : []), 'local address:port', 'peer address:port', 'process', ...(wide ? ['container', 'inode', 'netns'] : [])]
  return columns(head, items.map((s) => {
    const netid = s.protocol === 'unix' ? `u_${(s.type ?? 'unknown').slice(0, 3)}` : s.family === 'ipv6' ? `${s.protocol}6` : s.protocol
    const local = s.protocol === 'unix' ? clean(s.path) ?? '*' : endpoint(s.localAddress, s.localPort)
    const peer = s.protocol === 'unix' ? '*' : endpoint(s.peerAddress, s.peerPort)
    const process = s.owners.map((o) => (wide ? `${clean(o.command)},pid=${o.pid},fd=${o.fd}` : `${clean(o.command.split(' ')[0].split('/').pop())},pid=${o.pid}`)).join(' ')
    const containers = [...new Set(s.owners.map((o) => o.container?.name ?? '-'))].join(',')
    return [...(manyPods ? [pod(s.pod)] : []), netid, s.state, ...(wide ? [s.recvQueue, s.sendQueue] : []), local, peer, process, ...(wide ? [containers, s.inode, s.netnsInode] : [])]
  }))
}

// ---- fs ----

const TYPE_CHAR: Record<RootEntryType, string> = {file: '-', dir: 'd', link: 'l', fifo: 'p', socket: 's', char: 'c', block: 'b', unknown: '?'}

/** ls -l's mode column: drwxr-xr-x, with s/S/t/T for setuid, setgid, sticky. */
export function modeString(type: RootEntryType, mode: string | null): string {
  if (mode === null) return `${TYPE_CHAR[type]}?????????`
  const m = Number.parseInt(mode, 8)
  const bit = (mask: number, c: string) => (m & mask ? c : '-')
  const special = (exec: boolean, on: boolean, lower: string) => (on ? (exec ? lower : lower.toUpperCase()) : exec ? 'x' : '-')
  return (
    TYPE_CHAR[type] +
    bit(0o400, 'r') + bit(0o200, 'w') + special(!!(m & 0o100), !!(m & 0o4000), 's') +
    bit(0o040, 'r') + bit(0o020, 'w') + special(!!(m & 0o010), !!(m & 0o2000), 's') +
    bit(0o004, 'r') + bit(0o002, 'w') + special(!!(m & 0o001), !!(m & 0o1000), 't')
  )
}

/** Where a file lives, in the words `pod` uses for the container's mounts. */
/** The mount (and, on the overlay root, the layer) an entry is on; shorter in the default table. */
export function mountLabel(mount: OwningMount | null, layer: FileRecord['layer'], wide = true): string | undefined {
  if (!mount) return undefined
  if (mount.volume) return `${mount.volume.plugin.replace(/^kubernetes\.io\//, '')} ${mount.volume.name}`
  if (mount.destination === '/' && mount.fsType === 'overlay') {
    if (layer === undefined || layer === null) return 'rootfs'
    if (!wide) return layer.kind === 'upper' ? 'container layer' : `image layer ${layer.index}`
    return layer.kind === 'upper' ? 'rootfs (written in the container)' : `rootfs (image layer ${layer.index})`
  }
  return `${mount.destination} (${mount.fsType})`
}

function when(iso: string | null): string | undefined {
  return iso ? iso.slice(0, 16).replace('T', ' ') : undefined
}

function size(bytes: number): string {
  if (bytes < 1024) return String(bytes)
  const units = ['K', 'M', 'G', 'T']
  let v = bytes
  let i = -1
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${v >= 10 ? Math.round(v) : v.toFixed(1)}${units[i]}`
}

export function filesTable(items: FileRecord[], wide: boolean): string {
  const du = items.some((f) => f.totalBytes !== undefined)
  if (du) {
    return columns(['total', 'mount', 'path'], items.map((f) => [`${wide ? f.totalBytes : size(f.totalBytes!)}${f.incomplete ? '+' : ''}`, mountLabel(f.mount, f.layer, wide), clean(f.path)]))
  }
  const head = ['mode', 'uid', 'gid', 'size', 'modified', 'mount', wide ? 'path' : 'name']
  return columns(head, items.map((f) => {
    const name = clean(wide || items.length === 1 ? f.path : f.name)! + (f.linkTarget !== null ? ` -> ${clean(f.linkTarget)}` : '')
    return [modeString(f.type, f.mode), f.uid, f.gid, wide ? f.size : size(f.size), when(f.modified), mountLabel(f.mount, f.layer, wide), name]
  }))
}

/**
 * A file's content, as it is. On a terminal its control characters (all but newline and tab)
 * are escaped; into a pipe or a file it goes byte for byte (where it is UTF-8 text).
 */
export function fileContentView(terminal: boolean) {
  return (items: FileContent[]): string =>
    items
      .map((f) => {
        if (f.content === null) return `# ${clean(f.path)}: ${f.size} bytes ${f.withheld ?? 'withheld'}\n`
        if (f.encoding === 'base64') return `# ${clean(f.path)}: ${f.size} bytes, not text; -o json gives them in base64\n`
        return terminal ? escapeControl(f.content, '\n\t') : f.content
      })
      .join('')
}

// ---- conntrack ----

function tupleText(t: ConntrackTuple): string {
  return `${endpoint(t.src, t.sport ?? null).replace(/:\*$/, '')} -> ${endpoint(t.dst, t.dport ?? null).replace(/:\*$/, '')}`
}

/**
 * The default table fits 80 columns: who sent (the client pod, else the source address), where
 * to (the original destination: a Service's frontend), who answered (the server pod, else the
 * reply's source: the endpoint after a DNAT). -o wide shows both tuples whole, NAT, flags, mark.
 */
export function conntrackTable(items: ConntrackRecord[], wide: boolean): string {
  if (!wide) {
    return columns(['proto', 'state', 'client', 'sent to', 'answered by', 'expires'], items.map((c) => [
      c.protocol, c.state,
      pod(c.client?.pod) ?? endpoint(c.original.src, c.original.sport ?? null).replace(/:\*$/, ''),
      endpoint(c.original.dst, c.original.dport ?? null).replace(/:\*$/, ''),
      c.server ? `${pod(c.server.pod)}${c.reply.sport !== null && c.nat.dnat ? `:${c.reply.sport}` : ''}` : endpoint(c.reply.src, c.reply.sport ?? null).replace(/:\*$/, ''),
      age(c.timeoutSeconds),
    ]))
  }
  const head = ['proto', 'state', 'original (as sent)', 'reply (as answered)', 'nat', 'client', 'server', 'expires', 'age', 'flags', 'mark', 'service']
  return columns(head, items.map((c) => {
    const nat = [c.nat.dnat ? 'dnat' : '', c.nat.snat ? 'snat' : ''].filter(Boolean).join('+')
    return [
      c.protocol, c.state, tupleText(c.original), tupleText(c.reply), nat, pod(c.client?.pod), pod(c.server?.pod), c.timeoutSeconds === null ? undefined : `${c.timeoutSeconds}s`,
      c.ageSeconds === null ? undefined : `${c.ageSeconds}s`, c.flags.join(','), c.mark, c.service,
    ]
  }))
}

// ---- enter ----

/** The lines `enter` writes on stderr before the program starts. */
export function enterTable(items: EnterRecord[]): string {
  return items
    .map((e) => {
      const whose = e.container ? `container ${clean(e.container.name)}` : 'the pod sandbox'
      const ns = e.namespaces.map((n) => `${n.type}:[${n.inode ?? '?'}]`).join(' ')
      return `entered ${ns} of pod ${pod(e.pod)} (${whose}, pid ${e.pid}) to run: ${clean(e.argv.join(' '))}\n`
    })
    .join('')
}

// ---- documents (-o json/yaml, -o name) ----

const podPart = (ref: PodRef) => `${ref.namespace ?? '-'}/${ref.name ?? ref.uid}`
export const SOCKET_LIST: DocumentShape<SocketRecord[]> = {kind: 'SocketList', name: (s: SocketRecord) => `socket/${podPart(s.pod)}/${s.inode}`}
export const FILE_LIST: DocumentShape<FileRecord[]> = {kind: 'FileList', name: (f: FileRecord) => `file${f.path}`}
export const FILE_CONTENT_LIST: DocumentShape<FileContent[]> = {kind: 'FileContentList', name: (f: FileContent) => `file${f.path}`}
export const CONNTRACK_LIST: DocumentShape<ConntrackRecord[]> = {kind: 'ConntrackEntryList'}
export const ENTERED_LIST: DocumentShape<EnterRecord[]> = {kind: 'EnteredNamespaceList'}
