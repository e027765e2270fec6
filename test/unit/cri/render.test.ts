// pods and containers tables drawn from the example snapshot (examples/containerd-node), row by
// row against the records they render.
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {criViewFor} from '../../../src/cri/gather.js'
import {containerListing, podListing} from '../../../src/cri/listings.js'
import {containersTable, podsTable} from '../../../src/cri/render.js'
import {SnapshotHost} from '../../../src/host/snapshot.js'
import {age, shortId} from '../../../src/output/table.js'
import {REPO} from '../../e2e/node/cli.js'
import {readColumns} from '../../helpers/table.js'

const host = await SnapshotHost.open(join(REPO, 'examples/containerd-node'))
const cri = await criViewFor({}, host)
const cell = (v: string | number | null | undefined) => (v === null || v === undefined || v === '' ? '-' : String(v))

describe('pods table on the example snapshot', () => {
  it('one row per pod in kubectl get pods\' columns; wide adds QoS and UID', async () => {
    const rows = await podListing(host, cri, {})
    expect(rows.length).toBeGreaterThan(2)
    const narrow = readColumns(podsTable(rows, false), 'NAMESPACE')
    expect(narrow.map((r) => [r.namespace, r.name, r.ready, r.status, r.restarts, r.age, r.ip])).toEqual(
      rows.map((r) => [cell(r.namespace), cell(r.name ?? r.uid), cell(r.ready), cell(r.status), cell(r.restarts), cell(age(r.ageSeconds)), cell(r.ip)]),
    )
    const wide = readColumns(podsTable(rows, true), 'NAMESPACE')
    expect(wide.map((r) => [r.name, r.qos, r.uid])).toEqual(rows.map((r) => [cell(r.name ?? r.uid), cell(r.qosClass), cell(r.uid)]))
  })
})

describe('containers table on the example snapshot', () => {
  it('one row per container in crictl ps -a\'s columns, the exit code beside the state; wide adds the reason and the pod', async () => {
    const rows = await containerListing(host, cri, {})
    expect(rows.length).toBeGreaterThan(2)
    const narrow = readColumns(containersTable(rows, false), 'CONTAINER')
    expect(narrow.map((r) => [r.container, r.state, r.name, r.pod])).toEqual(
      rows.map((r) => [cell(shortId(r.id)), r.exitCode === null ? r.state : `${r.state} ${r.exitCode}`, cell(r.name), cell(r.pod.name)]),
    )
    const wide = readColumns(containersTable(rows, true), 'CONTAINER')
    expect(wide.map((r) => [r.container, r.exit, r.reason, r.pid, r['pod uid']])).toEqual(
      rows.map((r) => [cell(r.id), cell(r.exitCode), cell(r.reason), cell(r.pid), cell(r.pod.uid)]),
    )
  })
})
