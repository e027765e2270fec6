// pod and ps tables drawn from the example snapshot (examples/containerd-node), row by row
// against the records they render.
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {SnapshotHost} from '../../../src/host/snapshot.js'
import {findPod, gatherPods} from '../../../src/pods/pods.js'
import {gatherProcesses} from '../../../src/pods/processes.js'
import {podNotFound, podTable, psTable} from '../../../src/pods/render.js'
import {REPO} from '../../e2e/node/cli.js'
import {readColumns, readFields} from '../../helpers/table.js'

const host = await SnapshotHost.open(join(REPO, 'examples/containerd-node'))
const pods = await gatherPods(host)
const cell = (v: string | number | null | undefined) => (v === null || v === undefined || v === '' ? '-' : String(v))

describe('pod table on the example snapshot', () => {
  it('has pods to draw', () => expect(pods.length).toBeGreaterThan(2))

  it.each(pods.map((p) => [`${p.namespace}/${p.name}`, p] as const))('%s: the header and one CONTAINERS row per container', (_, pod) => {
    for (const wide of [false, true]) {
      const text = podTable(pod, wide)
      expect(readFields(text)).toMatchObject({Pod: `${pod.namespace}/${pod.name}`, UID: pod.uid, 'QoS Class': cell(pod.qosClass), 'Pod cgroup': cell(pod.cgroup?.path)})
      const rows = readColumns(text.slice(text.indexOf('CONTAINERS')), 'NAME')
      expect(rows.map((r) => [r.name, r.id, r.state, r.pid, r.restarts])).toEqual(
        pod.containers.map((c) => [cell(c.name), cell(wide ? c.id : c.id?.slice(0, 13)), c.state, cell(c.pid), cell(c.restartCount)]),
      )
    }
  })
})

describe('ps table on the example snapshot', () => {
  it('one row per process, with its pod and container; wide adds the UID and the full container ID', async () => {
    const procs = await gatherProcesses(host)
    expect(procs.length).toBeGreaterThan(5)
    const narrow = readColumns(psTable(procs, false), 'PID')
    expect(narrow.map((r) => [r.pid, r.ppid, r.pod, r.container])).toEqual(procs.map((p) => [String(p.pid), String(p.ppid), cell(p.pod && `${p.pod.namespace ?? '?'}/${p.pod.name ?? p.pod.uid}`), cell(p.container?.name)]))
    const wide = readColumns(psTable(procs, true), 'PID')
    expect(wide.map((r) => [r.pid, r.uid, r['container id'], r.command])).toEqual(procs.map((p) => [String(p.pid), cell(p.pod?.uid), cell(p.container?.id), cell(p.command)]))
  })
})

describe('a pod that is not here', () => {
  it('says so in one line and lists the pods the node has', async () => {
    const lookup = await findPod(host, {name: 'no-such-pod'})
    if (lookup.kind !== 'not-found') throw new Error(`expected not-found, got ${lookup.kind}`)
    const [message, code, detail] = podNotFound(lookup, 'no-such-pod', undefined)
    expect([message, code]).toEqual(['pod no-such-pod not found on this node', 1])
    expect(readColumns(detail, 'NAMESPACE').map((r) => `${r.namespace}/${r.name} ${r.uid}`).sort()).toEqual(pods.map((p) => `${p.namespace}/${p.name} ${p.uid}`).sort())
  })
})
