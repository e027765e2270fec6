// `nodedoc pods` and `nodedoc containers`: every pod and container on the node in one line each,
// as `kubectl get pods -o wide` / `crictl pods` and `crictl ps -a` show them, from host files
// (processes, cgroups, log folders) and, where the CRI socket answers, the runtime's own records
// (exited containers, exit codes, images, labels).

import type {Host} from '../host/host.js'
import {parseProcStat} from '../parse/proc.js'
import type {ContainerReport, PodReport} from '../pods/types.js'
import type {CriContainerRecord, CriView} from './view.js'

/** USER_HZ: the unit of /proc/<pid>/stat's start time on every Linux architecture Kubernetes runs on. */
const CLOCK_TICKS = 100

export interface PodRow {
  namespace: string | null
  name: string | null
  uid: string
  /** running containers / all containers, as kubectl's READY */
  ready: string
  status: string
  restarts: number
  /** when the pod sandbox started (the pause process, else the runtime's record) */
  startedAt: string | null
  ageSeconds: number | null
  ip: string | null
  qosClass: string | null
  labels: Record<string, string> | null
}

export interface ContainerRow {
  id: string | null
  name: string | null
  pod: {namespace: string | null; name: string | null; uid: string}
  image: string | null
  createdAt: string | null
  ageSeconds: number | null
  state: string
  attempt: number | null
  exitCode: number | null
  reason: string | null
  pid: number | null
}

/** Boot time and each pod's sandbox start, read through the Host: what AGE is computed from. */
export async function gatherStartTimes(host: Host, reports: PodReport[]): Promise<Map<string, number>> {
  const stat = await host.readFile('/proc/stat')
  const btime = Number(/^btime (\d+)$/m.exec(stat ?? '')?.[1])
  const starts = new Map<string, number>()
  if (!Number.isFinite(btime)) return starts
  for (const report of reports) {
    const pid = report.sandbox.pid ?? report.containers.find((c) => c.pid !== null)?.pid
    if (pid === undefined || pid === null) continue
    const text = await host.readFile(`/proc/${pid}/stat`)
    const ticks = text === undefined ? undefined : parseProcStat(text)?.startTime
    if (ticks !== undefined && ticks !== null) starts.set(report.uid, (btime + ticks / CLOCK_TICKS) * 1000)
  }
  return starts
}

function podStatus(report: PodReport, containers: CriContainerRecord[], sandboxReady: boolean | null): string {
  const running = report.containers.filter((c) => c.state === 'running').length
  if (report.containers.length > 0 && running === report.containers.length) return sandboxReady === false ? 'NotReady' : 'Running'
  // the newest attempt of a container that is not running says why, as kubectl's STATUS does
  const stopped = containers.filter((c) => c.state === 'exited').sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''))[0]
  if (stopped?.reason) return stopped.reason
  if (report.sandbox.pid === null && running === 0) return 'Terminated'
  return running === 0 ? 'NotReady' : 'PartlyRunning'
}

/** One row per pod: host truth first, the runtime's records where they add what files cannot say. */
export function podRows(reports: PodReport[], cri: CriView | undefined, starts: Map<string, number>, now: number): PodRow[] {
  return reports.map((report) => {
    const sandbox = cri?.sandboxes.filter((s) => s.uid === report.uid).sort((a, b) => b.attempt - a.attempt)[0]
    const criContainers = cri?.containers.filter((c) => c.pod.uid === report.uid) ?? []
    const running = report.containers.filter((c) => c.state === 'running').length
    const started = starts.get(report.uid) ?? (sandbox?.createdAt ? Date.parse(sandbox.createdAt) : undefined)
    const ip = report.interfaces.flatMap((i) => i.ips)[0] ?? sandbox?.ips[0] ?? null
    return {
      namespace: report.namespace,
      name: report.name,
      uid: report.uid,
      ready: `${running}/${report.containers.length}`,
      status: podStatus(report, criContainers, sandbox ? sandbox.state === 'ready' : null),
      restarts: report.containers.reduce((n, c) => n + (c.restartCount ?? 0), 0),
      startedAt: started === undefined ? null : new Date(started).toISOString(),
      ageSeconds: started === undefined ? null : Math.max(0, Math.round((now - started) / 1000)),
      ip,
      qosClass: report.qosClass,
      labels: sandbox?.labels ?? null,
    }
  })
}

function fromReport(report: PodReport, c: ContainerReport): ContainerRow {
  return {
    id: c.id,
    name: c.name,
    pod: {namespace: report.namespace, name: report.name, uid: report.uid},
    image: null,
    createdAt: null,
    ageSeconds: null,
    state: c.state,
    attempt: c.restartCount,
    exitCode: null,
    reason: null,
    pid: c.pid,
  }
}

/**
 * Every container, exited ones included: the runtime's list where it answers (crictl ps -a),
 * with each running one checked against the host; otherwise what the host shows (running
 * containers, and the attempts their log folders record).
 */
export function containerRows(reports: PodReport[], cri: CriView | undefined, now: number): ContainerRow[] {
  if (!cri) return reports.flatMap((r) => r.containers.map((c) => fromReport(r, c)))
  const byId = new Map(reports.flatMap((r) => r.containers.map((c) => [c.id, {r, c}] as const)))
  const rows: ContainerRow[] = cri.containers.map((c) => {
    const host = byId.get(c.id)
    const created = c.createdAt ? Date.parse(c.createdAt) : undefined
    return {
      id: c.id,
      name: c.name,
      pod: {namespace: c.pod.namespace, name: c.pod.name, uid: c.pod.uid ?? host?.r.uid ?? ''},
      image: c.image,
      createdAt: c.createdAt,
      ageSeconds: created === undefined ? null : Math.max(0, Math.round((now - created) / 1000)),
      // the kernel's word wins: a container the runtime calls running but with no process is not
      state: c.state === 'running' && host && host.c.state !== 'running' ? host.c.state : c.state,
      attempt: c.attempt,
      exitCode: c.exitCode,
      reason: c.reason,
      pid: host?.c.pid ?? c.pid,
    }
  })
  // running on the host but unknown to the runtime: a finding worth a row
  const known = new Set(cri.containers.map((c) => c.id))
  for (const r of reports) for (const c of r.containers) if (c.id && !known.has(c.id)) rows.push(fromReport(r, c))
  return rows
}

/** kubectl's -l: `key=value`, `key!=value`, `key` (present), `!key` (absent), comma-joined. */
export function matchesLabels(labels: Record<string, string> | null, selector: string): boolean {
  return selector.split(',').map((s) => s.trim()).filter(Boolean).every((term) => {
    const have = labels ?? {}
    const ne = /^([^!=]+)!=(.*)$/.exec(term)
    if (ne) return have[ne[1].trim()] !== ne[2].trim()
    const eq = /^([^!=]+)==?(.*)$/.exec(term)
    if (eq) return have[eq[1].trim()] === eq[2].trim()
    if (term.startsWith('!')) return !(term.slice(1) in have)
    return term in have
  })
}
