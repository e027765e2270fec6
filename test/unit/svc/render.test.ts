// svc tables drawn with the example snapshot's routes and pods (examples/containerd-node): its
// own answer (no kube-proxy on that node), and the corpus's TestOverallIPTablesRules dump
// correlated with them.
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {SnapshotHost} from '../../../src/host/snapshot.js'
import {gatherPods} from '../../../src/pods/pods.js'
import {gatherHostRoutes} from '../../../src/pods/routes.js'
import {buildSvcReport} from '../../../src/svc/correlate.js'
import {gatherKubeProxyRules} from '../../../src/svc/gather.js'
import {renderAll, renderServices} from '../../../src/svc/render.js'
import {REPO} from '../../e2e/node/cli.js'
import {plain, readColumns} from '../../helpers/table.js'
import {HAVE_CORPUS, fixtures} from './corpus.js'

const host = await SnapshotHost.open(join(REPO, 'examples/containerd-node'))
const node = {routes: await gatherHostRoutes(host), pods: await gatherPods(host)}

describe('svc tables on the example snapshot', () => {
  it('a node without kube-proxy rules: an empty table and the problem that says so', async () => {
    const report = buildSvcReport(await gatherKubeProxyRules(host), node)
    expect(report.services).toEqual([])
    expect(report.problems.length).toBeGreaterThan(0)
    const text = plain(renderAll(report, false))
    expect(readColumns(text, 'SERVICE')).toEqual([])
    for (const p of report.problems) expect(text).toContain(`  - ${p}\n`)
  })

  it.skipIf(!HAVE_CORPUS)("svc -A: one row per service port of a real dump, endpoints placed by this node's routes", () => {
    const dump = fixtures('kube-proxy-iptables').find((f) => f.name.includes('TestOverallIPTablesRules'))
    expect(dump, 'kube-proxy-iptables-TestOverallIPTablesRules.txt').toBeDefined()
    const report = buildSvcReport({iptables: {backend: 'file', reason: dump!.name, ipv4: dump!.text, ipv6: ''}, nft: null, ipvs: null, problems: []}, node)
    expect(report.services.length).toBeGreaterThan(3)
    const rows = readColumns(renderAll(report, true), 'SERVICE')
    expect(rows.map((r) => [r.service, r.proto, r.endpoints, r.local, r.remote, r.verdict])).toEqual(report.services.map((s) => [
      s.service ?? '(unnamed)', s.protocol, String(s.endpoints.length), String(s.endpoints.filter((e) => e.location === 'local').length),
      String(s.endpoints.filter((e) => e.location === 'remote').length), s.verdict.split(' (')[0],
    ]))
    // the default table carries the local count with the total
    const narrow = readColumns(renderAll(report, false), 'SERVICE')
    expect(narrow.map((r) => r.endpoints)).toEqual(report.services.map((s) => {
      const local = s.endpoints.filter((e) => e.location === 'local').length
      return local ? `${s.endpoints.length} (${local} local)` : String(s.endpoints.length)
    }))
    const blocks = plain(renderServices(report, false)).split('\n---\n')
    expect(blocks).toHaveLength(report.services.length)
    expect(blocks[0].split('\n')[0]).toBe(`Rules: ${report.mode}, ${report.source}${report.masqueradeMark ? `; masquerade mark ${report.masqueradeMark}` : ''}${report.clusterCIDR ? `; pod traffic ${report.clusterCIDR}` : ''}`)
  })
})
