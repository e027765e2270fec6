// The cluster table drawn from what `doctor -o json`, `ps -o json` and `svc -A -o json` say about
// the example snapshot (examples/containerd-node), as two nodes: the example, and the same node
// with one check failing.
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {runChecks} from '../../../src/doctor/doctor.js'
import {CHECKS} from '../../../src/doctor/registry.js'
import {SnapshotHost} from '../../../src/host/snapshot.js'
import {gatherPods} from '../../../src/pods/pods.js'
import {gatherProcesses} from '../../../src/pods/processes.js'
import {gatherHostRoutes} from '../../../src/pods/routes.js'
import {mergeReports} from '../../../src/report/merge.js'
import {reportTable} from '../../../src/report/render.js'
import {recognise} from '../../../src/report/shapes.js'
import {buildSvcReport} from '../../../src/svc/correlate.js'
import {gatherKubeProxyRules} from '../../../src/svc/gather.js'
import {REPO} from '../../e2e/node/cli.js'
import {readColumns} from '../../helpers/table.js'

const host = await SnapshotHost.open(join(REPO, 'examples/containerd-node'))
const asJson = (value: unknown) => JSON.parse(JSON.stringify(value))
const doctor = asJson(await runChecks(host, CHECKS))
const ps = asJson(await gatherProcesses(host))
const svc = asJson(buildSvcReport(await gatherKubeProxyRules(host), {routes: await gatherHostRoutes(host), pods: await gatherPods(host)}))
const broken = doctor.map((r: {id: string; status: string}) => (r.status === 'PASS' ? {...r, status: 'FAIL', seen: 'broken on purpose'} : r))

function input(node: string, file: string, doc: unknown) {
  const found = recognise(doc)
  if (!found.ok) throw new Error(`${file}: ${found.reason}`)
  return {source: `${node}/${file}`, node, doc: found.doc}
}

const report = mergeReports([
  input('node-a', 'doctor.json', doctor), input('node-a', 'ps.json', ps), input('node-a', 'svc.json', svc),
  input('node-b', 'doctor.json', broken),
])

describe('the cluster table of the example snapshot', () => {
  it('one row per node with its check counts, services and pods', () => {
    const count = (results: Array<{status: string}>, s: string) => String(results.filter((r) => r.status === s).length)
    const rows = readColumns(reportTable(report, false), 'NODE')
    expect(rows).toEqual([
      {node: 'node-a', fail: count(doctor, 'FAIL'), warn: count(doctor, 'WARN'), pass: count(doctor, 'PASS'), services: String(svc.services.length), pods: String(new Set(ps.filter((p: {pod: unknown}) => p.pod).map((p: {pod: {uid: string}}) => p.pod.uid)).size), from: '3'},
      {node: 'node-b', fail: count(broken, 'FAIL'), warn: count(broken, 'WARN'), pass: '0', services: '-', pods: '-', from: '1'},
    ])
  })

  it('one row per check that fails or warns somewhere, naming the nodes', () => {
    const rows = readColumns(reportTable(report, false), 'CHECK')
    for (const r of doctor as Array<{id: string; status: string}>) {
      const row = rows.find((x) => x.check === r.id)
      expect(row, r.id).toBeDefined()
      expect(row!.fail.split(', '), r.id).toEqual(r.status === 'FAIL' ? ['node-a', 'node-b'] : r.status === 'PASS' ? ['node-b'] : ['-'])
    }
    expect(readColumns(reportTable(report, true), 'CHECK').find((x) => x.check === 'swap')?.message).toContain('node-b: broken on purpose')
  })
})
