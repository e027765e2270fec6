import chalk from 'chalk'
import type {PodLookup, PodSummary} from './pods.js'
import {type ContainerReport, NAMESPACE_TYPES, type PodReport, type ProcessRecord, type ProcessTreeNode} from './types.js'
import {bytes, columns, fields, shortId} from '../output/table.js'
import type {DocumentShape} from '../output/output.js'

// pod (one pod in full), ps, and the pod listing a lookup that missed shows

const KERNEL_FS = new Set(['proc', 'sysfs', 'devpts', 'mqueue', 'cgroup', 'cgroup2'])

function section(title: string): string {
  return '\n' + chalk.bold(title) + '\n'
}

function treeLines(nodes: ProcessTreeNode[], depth = 0): string[] {
  return nodes.flatMap((n) => [
    `${'  '.repeat(depth)}${n.pid} (ns ${n.nsPid}) ${n.state}${n.zombie ? chalk.red(' ZOMBIE') : ''}  ${n.command}`,
    ...treeLines(n.children, depth + 1),
  ])
}

function limitText(c: ContainerReport['cgroup']): string[] {
  if (!c) return ['-', '-', '-', '-', '-', '-', '-', '-']
  const cpu = c.cpuShares !== null ? `shares ${c.cpuShares}` : c.cpuWeight !== null ? `weight ${c.cpuWeight}` : '-'
  const quota = c.cpuQuotaUs !== null ? `${c.cpuQuotaUs}/${c.cpuPeriodUs}` : c.cpuPeriodUs !== null ? `none/${c.cpuPeriodUs}` : '-'
  return [
    bytes(c.memoryLimitBytes) ?? 'none',
    bytes(c.memoryUsageBytes) ?? '-',
    bytes(c.memoryPeakBytes) ?? '-',
    c.oomKills === null ? '-' : String(c.oomKills),
    cpu,
    quota,
    c.throttledPeriods === null ? '-' : String(c.throttledPeriods),
    c.pidsCurrent === null ? '-' : `${c.pidsCurrent}/${c.pidsMax ?? 'max'}`,
  ]
}

/** `nodedoc pod` for people: describe-style header, then one table per aspect. */
export function podTable(pod: PodReport, wide: boolean): string {
  let out = fields([
    ['Pod', `${pod.namespace ?? '?'}/${pod.name ?? '?'}`],
    ['UID', pod.uid],
    ['QoS Class', pod.qosClass],
    ['Runtime', `${pod.runtime} (cgroup v${pod.cgroupVersion ?? '?'}, ${pod.cgroupDriver} driver)`],
    ['Sandbox', pod.sandbox.id ? `${shortId(pod.sandbox.id)} pid ${pod.sandbox.pid ?? '-'}` : null],
    ['IPs', pod.hostNetwork ? 'host network (node addresses)' : pod.interfaces.filter((i) => i.ips.length).map((i) => `${i.ips.join(', ')} (${i.name})`).join('; ')],
    ['Host veth', pod.hostVeth ? `${pod.hostVeth.name} (ifindex ${pod.hostVeth.ifindex})` : null],
    ['Host route', pod.hostRoute ? `${pod.hostRoute.destination} ${pod.hostRoute.via ? `via ${pod.hostRoute.via} ` : ''}dev ${pod.hostRoute.dev}` : null],
    ['Host namespaces', [pod.hostNetwork && 'network', pod.hostPID && 'pid', pod.hostIPC && 'ipc'].filter(Boolean).join(', ') || 'none'],
    ['Pod cgroup', pod.cgroup?.path],
  ])

  out += section('CONTAINERS')
  out += columns(
    ['name', 'id', 'state', 'pid', 'nspid', 'restarts', 'command'],
    pod.containers.map((c) => [c.name, wide ? c.id : shortId(c.id), c.state, c.pid, c.nsPid, c.restartCount, c.command]),
  )

  out += section('NAMESPACES')
  const nsRow = (name: string, inodes: Record<string, number | undefined>, sharing: Record<string, string | undefined>) =>
    [name, ...NAMESPACE_TYPES.map((t) => (inodes[t] === undefined ? '-' : wide ? `${inodes[t]} ${sharing[t] ?? ''}`.trim() : (sharing[t] ?? String(inodes[t]))))]
  // 80 columns: the namespaces a pod shares or not; cgroup, user and time (almost always the
  // node's) in -o wide
  const nsShown = wide ? NAMESPACE_TYPES : NAMESPACE_TYPES.filter((t) => !['cgroup', 'user', 'time'].includes(t))
  const nsCells = (row: string[]) => [row[0], ...NAMESPACE_TYPES.map((t, i) => [t, row[i + 1]] as const).filter(([t]) => nsShown.includes(t)).map(([, v]) => v)]
  out += columns(
    ['container', ...nsShown],
    [
      ...(pod.sandbox.pid ? [nsRow('(sandbox)', pod.sandbox.namespaces, Object.fromEntries(NAMESPACE_TYPES.map((t) => [t, String(pod.sandbox.namespaces[t] ?? '-')])))] : []),
      ...pod.containers.filter((c) => c.pid !== null).map((c) => nsRow(c.name ?? '?', c.namespaces, c.namespaceSharing)),
    ].map(nsCells),
  )

  out += section('CGROUPS')
  // 80 columns: peak memory and throttling in -o wide
  const cgroupCells = (row: string[]) => (wide ? row : row.filter((_, i) => i !== 3 && i !== 7))
  out += columns(
    cgroupCells(['cgroup', 'mem limit', 'usage', 'peak', 'oom kills', 'cpu', 'quota/period', 'throttled', 'pids']),
    [
      ...(pod.cgroup ? [[wide ? pod.cgroup.path : '(pod)', ...limitText(pod.cgroup)]] : []),
      ...pod.containers.filter((c) => c.cgroup).map((c) => [wide ? c.cgroup!.path : (c.name ?? '?'), ...limitText(c.cgroup)]),
    ].map(cgroupCells),
  )

  for (const c of pod.containers.filter((c) => c.mounts.length)) {
    out += section(`MOUNTS (${c.name})`)
    // kernel filesystems and the runtime's masked paths are noise for people; -o wide shows them
    const shown = wide ? c.mounts : c.mounts.filter((m) => !KERNEL_FS.has(m.fsType) && m.destination !== '/dev' && !m.destination.startsWith('/proc/') && !m.destination.startsWith('/sys/'))
    out += columns(
      wide ? ['destination', 'source', 'type', 'mode', 'propagation', 'volume'] : ['destination', 'source', 'mode', 'volume'],
      shown.map((m) => {
        const source = m.overlay ? `overlay upper=${m.overlay.upperDir ?? '-'}${wide ? ` lower=${m.overlay.lowerDirs.join(':')}` : ` (+${m.overlay.lowerDirs.length} lower)`}` : m.source
        const volume = m.volume ? `${m.volume.name} (${m.volume.plugin})` : undefined
        return wide ? [m.destination, source, m.fsType, m.readOnly ? 'ro' : 'rw', m.propagation, volume] : [m.destination, source, m.readOnly ? 'ro' : 'rw', m.volume?.name]
      }),
    )
  }

  const withProcs = pod.containers.filter((c) => c.processes.length)
  if (withProcs.length) {
    out += section('PROCESSES')
    for (const c of withProcs) out += `${c.name}:\n` + treeLines(c.processes, 1).join('\n') + '\n'
  }

  if (pod.logs.length) {
    out += section('LOGS')
    out += columns(['container', 'restart', 'size', 'path', 'linked from'], pod.logs.map((l) => [l.container, l.restart, bytes(l.sizeBytes), l.path, l.links.map((x) => (wide ? x : x.split('/').at(-1))).join(', ')]))
  }

  if (pod.findings.length) out += section('FINDINGS') + pod.findings.map((f) => chalk.yellow(`- ${f}`)).join('\n') + '\n'
  return out
}

/** `nodedoc ps`: ps with POD and CONTAINER columns. */
export function psTable(procs: ProcessRecord[], wide: boolean): string {
  const head = wide ? ['pid', 'ppid', 'nspid', 'stat', 'namespace', 'pod', 'uid', 'container', 'container id', 'command'] : ['pid', 'ppid', 'nspid', 'stat', 'pod', 'container', 'command']
  return columns(
    head,
    procs.map((p) => {
      const pod = p.pod ? `${p.pod.namespace ?? '?'}/${p.pod.name ?? p.pod.uid}` : undefined
      const command = wide ? p.command : p.command.length > 80 ? p.command.slice(0, 77) + '...' : p.command
      return wide
        ? [p.pid, p.ppid, p.nsPid, p.state, p.pod?.namespace, p.pod?.name, p.pod?.uid, p.container?.name, p.container?.id, command]
        : [p.pid, p.ppid, p.nsPid, p.state, pod, p.container?.name, command]
    }),
  )
}

export function podList(pods: PodSummary[]): string {
  return columns(['namespace', 'name', 'uid', 'containers', 'running'], pods.map((p) => [p.namespace, p.name, p.uid, p.containers, p.running ? 'yes' : 'no']))
}

/** The one-line error and the listing that follows it, for a pod that is not (uniquely) here. */
export function podNotFound(lookup: Exclude<PodLookup, {kind: 'found'}>, what: string, namespace: string | undefined): [string, number, string] {
  if (lookup.kind === 'ambiguous') {
    return [`pod ${what} is in several namespaces; choose one with -n`, 1, podList(lookup.candidates)]
  }
  const where = namespace ? ` in namespace ${namespace}` : ''
  const detail = lookup.known.length ? `pods on this node:\n${podList(lookup.known)}` : 'this node shows no pods\n'
  return [`pod ${what} not found${where} on this node`, 1, detail]
}

/** `pod -o json`: one Pod document; `-o name`: pod/NAMESPACE/NAME. */
export const POD_DOCUMENT: DocumentShape<PodReport> = {kind: 'Pod', name: (p: PodReport) => `pod/${p.namespace ?? '-'}/${p.name ?? p.uid}`}
/** `ps -o json`: a ProcessList of items; `-o name`: process/PID. */
export const PROCESS_LIST: DocumentShape<ProcessRecord[]> = {kind: 'ProcessList', name: (p: ProcessRecord) => `process/${p.pid}`}
