import type {ContainerReport, PodReport, ProcessRecord} from '../pods/types.js'
import type {CriContainerRecord, CriSandboxRecord, CriView} from './view.js'
import {shortId} from '../output/table.js'
import {byteOrder} from '../parse/order.js'

// Host files are the truth nodedoc reports; the runtime's answers fill what the files could
// not say and are checked against what they did say. A disagreement is a finding, never an
// override: `pod` keeps the same identity with and without a CRI socket.

/** The sandbox that stands for a pod now: the ready one, else the newest. */
export function currentSandbox(sandboxes: CriSandboxRecord[]): CriSandboxRecord | undefined {
  const ready = sandboxes.filter((s) => s.state === 'ready')
  const pool = ready.length ? ready : sandboxes
  return [...pool].sort((a, b) => byteOrder(b.createdAt ?? '', a.createdAt ?? '') || b.attempt - a.attempt)[0]
}

function sameId(a: string, b: string): boolean {
  return a.length > 0 && b.length > 0 && (a === b || a.startsWith(b) || b.startsWith(a))
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().join(' ') === [...b].sort().join(' ')
}

function enrichContainer(container: ContainerReport, cri: CriContainerRecord | undefined, findings: string[]): ContainerReport {
  if (!cri) return container
  const out = {...container}
  const label = container.name ?? cri.name ?? shortId(container.id)
  if (out.name === null && cri.name) out.name = cri.name
  else if (cri.name && out.name !== cri.name) findings.push(`container ${shortId(container.id)}: host files name it ${out.name}, the runtime ${cri.name}`)
  if (out.pid === null && cri.pid !== null && cri.state === 'running') out.pid = cri.pid
  else if (cri.pid !== null && out.pid !== null && cri.pid !== out.pid) findings.push(`container ${label}: PID ${out.pid} on the host, ${cri.pid} per the runtime`)
  if (out.restartCount === null) out.restartCount = cri.restartCount
  else if (out.restartCount !== cri.restartCount) findings.push(`container ${label}: restart ${out.restartCount} per the log files, ${cri.restartCount} per the runtime`)
  const hostRunning = container.state === 'running'
  if (hostRunning && cri.state !== 'running') findings.push(`container ${label}: a process runs, the runtime says ${cri.state}`)
  if (!hostRunning && cri.state === 'running') findings.push(`container ${label}: the runtime says running, host files show ${container.state}`)
  return out
}

function enrichPod(pod: PodReport, sandboxes: CriSandboxRecord[], containers: CriContainerRecord[], view: CriView): PodReport {
  const findings = [...pod.findings]
  const sandbox = currentSandbox(sandboxes)
  if (!sandbox) {
    findings.push(`the runtime at ${view.endpoint} knows no sandbox for this pod`)
    return {...pod, findings}
  }
  const out: PodReport = {...pod, sandbox: {...pod.sandbox}, findings}
  if (out.namespace === null && sandbox.namespace) out.namespace = sandbox.namespace
  if (out.name === null && sandbox.name) out.name = sandbox.name
  if ((sandbox.namespace && sandbox.namespace !== out.namespace) || (sandbox.name && sandbox.name !== out.name)) {
    findings.push(`pod name: host files say ${out.namespace}/${out.name}, the runtime ${sandbox.namespace}/${sandbox.name}`)
  }
  if (out.sandbox.id === null) out.sandbox.id = sandbox.id
  else if (!sameId(out.sandbox.id, sandbox.id)) findings.push(`sandbox: ${shortId(out.sandbox.id)} on the host, ${shortId(sandbox.id)} per the runtime`)
  if (out.sandbox.pid === null && sandbox.pid !== null && sandbox.state === 'ready') out.sandbox.pid = sandbox.pid
  else if (out.sandbox.pid !== null && sandbox.pid !== null && out.sandbox.pid !== sandbox.pid) findings.push(`sandbox PID ${out.sandbox.pid} on the host, ${sandbox.pid} per the runtime`)
  if (out.sandbox.pid !== null && sandbox.state !== 'ready') findings.push(`sandbox ${shortId(sandbox.id)}: the pause process runs, the runtime says not ready`)
  if (sandbox.hostNetwork !== null && sandbox.hostNetwork !== out.hostNetwork) {
    findings.push(`hostNetwork: ${out.hostNetwork} per the namespaces, ${sandbox.hostNetwork} per the runtime`)
  }
  if (!out.hostNetwork && sandbox.ips.length) {
    if (out.ips.length === 0) out.ips = [...sandbox.ips]
    else if (!sameSet(out.ips, sandbox.ips)) findings.push(`pod IPs: ${out.ips.join(', ')} in the pod's netns, ${sandbox.ips.join(', ')} per the runtime`)
  }

  const matched = new Set<string>()
  out.containers = pod.containers.map((c) => {
    const cri = containers.find((k) => sameId(c.id, k.id))
    if (cri) matched.add(cri.id)
    return enrichContainer(c, cri, findings)
  })
  for (const cri of containers) {
    if (matched.has(cri.id) || cri.state !== 'running') continue
    findings.push(`container ${cri.name ?? '?'} (${shortId(cri.id)}): running per the runtime, no such container in host files`)
  }
  const logPaths = new Set(pod.logs.map((l) => l.path))
  for (const cri of containers) {
    if (cri.logPath && cri.state === 'running' && pod.logs.length && !logPaths.has(cri.logPath)) {
      findings.push(`container ${cri.name ?? shortId(cri.id)}: the runtime writes ${cri.logPath}, not among the log files found`)
    }
  }
  return out
}

/**
 * Each pod compared with, and completed by, the runtime's view. Pods are matched on UID, the
 * runtime's containers on ID; only pods the host files found are reported.
 */
export function enrichPods(pods: PodReport[], view: CriView): PodReport[] {
  return pods.map((pod) => {
    const sandboxes = view.sandboxes.filter((s) => s.uid === pod.uid || (pod.sandbox.id !== null && sameId(s.id, pod.sandbox.id)))
    const ids = new Set(sandboxes.map((s) => s.id))
    const containers = view.containers.filter((c) => ids.has(c.sandboxId) || c.pod.uid === pod.uid)
    return enrichPod(pod, sandboxes, containers, view)
  })
}

/** Fills pod and container names `ps` could not read from host files, by container ID. */
export function enrichProcesses(procs: ProcessRecord[], view: CriView): ProcessRecord[] {
  const sandboxes = new Map(view.sandboxes.map((s) => [s.id, s]))
  const containers = new Map(view.containers.map((c) => [c.id, c]))
  return procs.map((p) => {
    if (!p.container) return p
    const id = p.container.id
    const sandbox = sandboxes.get(id)
    const cri = containers.get(id)
    const owner = cri ? sandboxes.get(cri.sandboxId) : sandbox
    const out = {...p}
    if (out.pod && owner) {
      out.pod = {...out.pod, namespace: out.pod.namespace ?? owner.namespace, name: out.pod.name ?? owner.name}
    }
    if (out.container && out.container.name === null && cri?.name) out.container = {...out.container, name: cri.name}
    return out
  })
}
