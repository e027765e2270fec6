// sandbox tables: what `sandbox create` prints for a planned sandbox, and `sandbox ls`.
import {describe, expect, it} from 'vitest'
import {planSandbox} from '../../../src/sandbox/plan.js'
import {createdTable, sandboxListTable} from '../../../src/sandbox/render.js'
import type {SandboxSummary} from '../../../src/sandbox/service.js'
import {STATE_VERSION, type SandboxState} from '../../../src/sandbox/state.js'
import {UID, config} from './plan-fixture.js'
import {readColumns, readFields} from '../../helpers/table.js'

const cfg = config('two-containers.yaml')
const plan = planSandbox(cfg)
const state: SandboxState = {
  version: STATE_VERSION, name: cfg.name, namespace: cfg.manifest.namespace, podUid: UID, sandboxId: cfg.sandboxId, isolation: 'full',
  createdAt: '2026-11-30T00:00:00.000Z', phase: 'running', manifest: cfg.manifest, qos: plan.info.qos,
  cgroup: {...cfg.cgroup, podPath: plan.info.podCgroupPath}, podLimits: plan.info.podLimits, lowerDir: '/x', podIp: cfg.network!.podIp, hostVeth: cfg.network!.hostVeth,
  containers: plan.info.containers.map((c) => ({name: c.name, id: c.id, argv: c.argv, cgroupPath: c.cgroupPath, logPath: c.logPath, limits: c.limits, oomScoreAdj: c.oomScoreAdj})),
  processes: {pause: {pid: 4242, startTime: 1}, [`ctr:${plan.info.containers[0].name}`]: {pid: 4250, startTime: 2}},
  steps: [], notes: ['a note'],
}

describe('sandbox create table', () => {
  it('the pod, then one row per container with its limits, oom_score_adj and log', () => {
    const text = createdTable(state, plan)
    expect(readFields(text)).toMatchObject({Sandbox: cfg.name, UID, QoS: plan.info.qos, 'Pod IP': cfg.network!.podIp, 'Pod cgroup': plan.info.podCgroupPath, 'Pause PID': '4242', Steps: String(plan.steps.length)})
    const rows = readColumns(text.slice(0, text.indexOf('note: ')), 'CONTAINER')
    expect(rows.map((r) => [r.container, r.id, r.pid, r.command, r.oom_score_adj, r.log])).toEqual(plan.info.containers.map((c, i) => [
      c.name, c.id.slice(0, 13), i === 0 ? '4250' : '-', c.argv.join(' '), String(c.oomScoreAdj), c.logPath,
    ]))
    expect(text.trimEnd().split('\n').at(-1)).toBe('note: a note')
  })
})

describe('sandbox ls table', () => {
  const summary: SandboxSummary = {
    name: cfg.name, namespace: state.namespace, podUid: UID, phase: 'running', isolation: 'full', qos: state.qos, podIp: state.podIp, hostVeth: state.hostVeth, createdAt: state.createdAt, notes: [],
    containers: state.containers.map((c, i) => ({name: c.name, id: c.id, state: i === 0 ? 'running' : 'exited', pid: i === 0 ? 4250 : null, exitCode: i === 0 ? null : 0})),
  }
  it('one row per sandbox: running containers of all, ip, qos; wide adds uid, veth, created', () => {
    const broken: SandboxSummary = {...summary, name: 'half', phase: 'broken', containers: [], podIp: null, problem: 'no state.json (half-made)'}
    expect(readColumns(sandboxListTable([summary, broken], false), 'NAME').map((r) => [r.name, r.phase, r.running, r.ip, r.problem])).toEqual([
      [cfg.name, 'running', `1/${state.containers.length}`, state.podIp, '-'],
      ['half', 'broken', '0/0', '-', 'no state.json (half-made)'],
    ])
    expect(readColumns(sandboxListTable([summary], true), 'NAME')[0]).toMatchObject({uid: UID, veth: state.hostVeth, created: state.createdAt})
    expect(sandboxListTable([], false)).toBe('No sandboxes.\n')
  })
})
