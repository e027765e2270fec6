// Joins the per-node documents into one cluster view: per check, which nodes FAIL or WARN;
// per service endpoint, which nodes cannot reach it; per node, what was read. Pure.

import type {NodeDocument} from './shapes.js'

export interface NodeInput {
  /** The file it came from, for messages. */
  source: string
  /** Node name: from the document when it names one, else from the file name. */
  node: string
  doc: NodeDocument
}

export interface CheckRow {
  check: string
  fail: string[]
  warn: string[]
  pass: string[]
  skip: string[]
  /** First message per failing/warning node. */
  messages: Record<string, string>
}

export interface EndpointRow {
  service: string
  endpoint: string
  /** Nodes whose rules lead to it without a problem. */
  reachFrom: string[]
  /** node -> why not */
  cannotReach: Record<string, string>
}

export interface ServiceRow {
  service: string
  /** Nodes whose rules for the service are missing entirely. */
  missingOn: string[]
  /** node -> verdict or problem when not a plain DNAT */
  problems: Record<string, string>
}

export interface NodeRow {
  node: string
  sources: string[]
  checks: {fail: number; warn: number; pass: number} | null
  services: number | null
  pods: number | null
}

export interface ClusterReport {
  nodes: NodeRow[]
  checks: CheckRow[]
  services: ServiceRow[]
  endpoints: EndpointRow[]
}

const byName = (a: string, b: string) => a.localeCompare(b, 'en', {numeric: true})

export function mergeReports(inputs: NodeInput[]): ClusterReport {
  const nodes = new Map<string, NodeRow>()
  const nodeRow = (input: NodeInput) => {
    let row = nodes.get(input.node)
    if (!row) nodes.set(input.node, (row = {node: input.node, sources: [], checks: null, services: null, pods: null}))
    row.sources.push(input.source)
    return row
  }

  const checks = new Map<string, CheckRow>()
  const services = new Map<string, {nodes: Set<string>; problems: Record<string, string>}>()
  const endpoints = new Map<string, EndpointRow>()
  const svcNodes = new Set<string>()

  for (const input of inputs) {
    const row = nodeRow(input)
    const {doc, node} = input
    if (doc.kind === 'doctor') {
      row.checks ??= {fail: 0, warn: 0, pass: 0}
      for (const check of doc.checks) {
        let c = checks.get(check.name)
        if (!c) checks.set(check.name, (c = {check: check.name, fail: [], warn: [], pass: [], skip: [], messages: {}}))
        const bucket = c[check.status.toLowerCase() as 'fail' | 'warn' | 'pass' | 'skip']
        if (!bucket.includes(node)) bucket.push(node)
        if (check.status === 'FAIL') row.checks.fail++
        if (check.status === 'WARN') row.checks.warn++
        if (check.status === 'PASS') row.checks.pass++
        if ((check.status === 'FAIL' || check.status === 'WARN') && check.message && !c.messages[node]) c.messages[node] = check.message
      }
    } else if (doc.kind === 'svc') {
      svcNodes.add(node)
      row.services = (row.services ?? 0) + doc.services.length
      for (const service of doc.services) {
        let s = services.get(service.service)
        if (!s) services.set(service.service, (s = {nodes: new Set(), problems: {}}))
        s.nodes.add(node)
        const trouble = [service.verdict !== 'DNAT' ? service.verdict : '', ...service.problems].filter(Boolean).join('; ')
        if (trouble) s.problems[node] = trouble
        for (const endpoint of service.endpoints) {
          const name = endpoint.port === null ? endpoint.ip : endpoint.ip.includes(':') ? `[${endpoint.ip}]:${endpoint.port}` : `${endpoint.ip}:${endpoint.port}`
          const key = `${service.service}\u0000${name}`
          let e = endpoints.get(key)
          if (!e) endpoints.set(key, (e = {service: service.service, endpoint: name, reachFrom: [], cannotReach: {}}))
          // a service whose rules reject or drop reaches none of its endpoints from this node
          const why = [...(service.verdict !== 'DNAT' ? [service.verdict] : []), ...endpoint.problems].join('; ')
          if (why) e.cannotReach[node] = why
          else if (!e.reachFrom.includes(node)) e.reachFrom.push(node)
        }
      }
    } else {
      row.pods = (row.pods ?? 0) + doc.pods.length
    }
  }

  // an endpoint some nodes know and another node's rules lack entirely is unreachable there too
  for (const e of endpoints.values()) {
    for (const node of svcNodes) {
      if (e.reachFrom.includes(node) || e.cannotReach[node]) continue
      const service = services.get(e.service)!
      e.cannotReach[node] = service.problems[node] ?? (service.nodes.has(node) ? 'not an endpoint in its rules' : 'no rules for the service')
    }
  }

  const checkRows = [...checks.values()].sort((a, b) => b.fail.length - a.fail.length || b.warn.length - a.warn.length || byName(a.check, b.check))
  for (const c of checkRows) for (const list of [c.fail, c.warn, c.pass, c.skip]) list.sort(byName)
  return {
    nodes: [...nodes.values()].sort((a, b) => byName(a.node, b.node)),
    checks: checkRows,
    services: [...services.entries()]
      .map(([service, s]) => ({service, missingOn: [...svcNodes].filter((n) => !s.nodes.has(n)).sort(byName), problems: s.problems}))
      .sort((a, b) => byName(a.service, b.service)),
    endpoints: [...endpoints.values()]
      .map((e) => ({...e, reachFrom: e.reachFrom.sort(byName), cannotReach: Object.fromEntries(Object.entries(e.cannotReach).sort(([a], [b]) => byName(a, b)))}))
      .sort((a, b) => byName(a.service, b.service) || byName(a.endpoint, b.endpoint)),
  }
}
