// Tables for `nodedoc sandbox`.

import {bytes, columns, fields, shortId} from '../output/table.js'
import type {Plan} from './plan.js'
import type {SandboxSummary} from './service.js'
import type {SandboxState} from './state.js'
import type {DocumentShape} from '../output/output.js'

export function createdTable(state: SandboxState, plan: Plan): string {
  const head = fields([
    ['Sandbox', state.name],
    ['Pod', `${state.namespace}/${state.name}`],
    ['UID', state.podUid],
    ['QoS', state.qos],
    ['Isolation', state.isolation],
    ['Pod IP', state.podIp],
    ['Host veth', state.hostVeth],
    ['Pod cgroup', state.cgroup.podPath],
    ['Pause PID', state.processes.pause?.pid],
    ['Steps', plan.steps.length],
  ])
  const rows = state.containers.map((c) => [
    c.name, shortId(c.id), state.processes[`ctr:${c.name}`]?.pid, c.argv.join(' '),
    bytes(c.limits.memoryLimitBytes), c.limits.cpuShares, c.limits.cpuQuotaUs ?? 'none', c.oomScoreAdj, c.logPath,
  ])
  const notes = state.notes.map((n) => `note: ${n}\n`).join('')
  return head + '\n' + columns(['container', 'id', 'pid', 'command', 'memory', 'shares', 'quota', 'oom_score_adj', 'log'], rows) + notes
}

export function sandboxListTable(list: SandboxSummary[], wide: boolean): string {
  if (list.length === 0) return 'No sandboxes.\n'
  const rows = list.map((s) => {
    const running = s.containers.filter((c) => c.state === 'running').length
    const base = [s.name, s.namespace, s.phase, `${running}/${s.containers.length}`, s.podIp, s.qos, s.isolation, s.problem ?? '']
    return wide ? [...base, s.podUid, s.hostVeth, s.createdAt] : base
  })
  const head = ['name', 'namespace', 'phase', 'running', 'ip', 'qos', 'isolation', 'problem']
  return columns(wide ? [...head, 'uid', 'veth', 'created'] : head, rows)
}

/** `sandbox ls -o json`: a SandboxList of items; `-o name`: sandbox/NAMESPACE/NAME. */
export const SANDBOX_LIST: DocumentShape<SandboxSummary[]> = {kind: 'SandboxList', name: (s: SandboxSummary) => `sandbox/${s.namespace}/${s.name}`}
/** `sandbox create -o json`: the Sandbox it made. */
export const SANDBOX_DOCUMENT: DocumentShape<unknown> = {kind: 'Sandbox', name: (s: {namespace: string; name: string}) => `sandbox/${s.namespace}/${s.name}`}
