import type {ClusterReport} from './merge.js'
import {columns} from '../output/table.js'
import type {DocumentShape} from '../output/output.js'

const list = (names: string[]) => (names.length ? names.join(', ') : '-')
const reasons = (byNode: Record<string, string>, wide: boolean) =>
  Object.entries(byNode).map(([node, why]) => (wide ? `${node} (${why})` : node)).join(', ')

/** The cluster table: nodes read, failing checks, unreachable endpoints. */
export function reportTable(report: ClusterReport, wide: boolean): string {
  const parts: string[] = []
  parts.push(columns(['node', 'fail', 'warn', 'pass', 'services', 'pods', 'from'], report.nodes.map((n) => [
    n.node, n.checks?.fail, n.checks?.warn, n.checks?.pass, n.services, n.pods, wide ? n.sources.join(', ') : n.sources.length,
  ])))
  if (report.checks.length) {
    parts.push(columns(['check', 'fail', 'warn', 'pass', ...(wide ? ['message'] : [])], report.checks.map((c) => [
      c.check, list(c.fail), list(c.warn), c.pass.length, ...(wide ? [Object.entries(c.messages).map(([n, m]) => `${n}: ${m}`).join('; ')] : []),
    ])))
  }
  const troubled = report.services.filter((s) => s.missingOn.length || Object.keys(s.problems).length)
  if (troubled.length) {
    parts.push(columns(['service', 'missing on', 'problems'], troubled.map((s) => [
      s.service, list(s.missingOn), reasons(s.problems, true),
    ])))
  }
  if (report.endpoints.length) {
    const shown = wide ? report.endpoints : report.endpoints.filter((e) => Object.keys(e.cannotReach).length)
    if (shown.length) {
      parts.push(columns(['service', 'endpoint', 'reached from', 'cannot reach'], shown.map((e) => [
        e.service, e.endpoint, e.reachFrom.length, reasons(e.cannotReach, wide) || '-',
      ])))
    } else parts.push(`every node reaches all ${report.endpoints.length} service endpoints\n`)
  }
  return parts.join('\n')
}

/** `report -o json`: one ClusterReport; its records are the nodes. */
export const CLUSTER_REPORT: DocumentShape<ClusterReport> = {
  kind: 'ClusterReport',
  items: (r) => r.nodes,
  withItems: (r, nodes) => ({...r, nodes: nodes as ClusterReport['nodes']}),
  name: (n: ClusterReport['nodes'][number]) => `node/${n.node}`,
}
