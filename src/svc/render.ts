// Tables and pictures of a svc report. JSON/YAML come from the shared output layer.

import {printable} from '../output/escape.js'
import {columns, fields} from '../output/table.js'
import type {SvcReport} from './correlate.js'
import type {EndpointTrace, Frontend, ServiceTrace} from './types.js'
import type {DocumentShape} from '../output/output.js'

function pct(p: number): string {
  return `${(p * 100).toFixed(p === 0 || p === 1 ? 0 : 2)}%`
}

function frontendText(f: Frontend): string {
  return `${f.kind} ${f.ip ?? '*'}:${f.port || '*'}${f.localhost ? ' (+localhost)' : ''}`
}

function onward(e: EndpointTrace): string {
  if (e.pod) return `pod ${e.pod.namespace ?? '?'}/${e.pod.name ?? '?'} (${e.pod.uid})`
  if (e.location === 'remote' && e.route) return `remote via ${e.route.via ?? 'on-link'} dev ${e.route.dev}`
  if (e.location === 'local' && e.route) return `this node, dev ${e.route.dev}, no pod`
  return e.locationNote ? `${e.location} (${e.locationNote})` : e.location
}

/** What happens to a frontend's packets that are not DNATed: not hooked, unknown share, the verdict. */
function otherwiseText(f: Frontend): string {
  if (f.notHooked) return f.notHooked
  const parts: string[] = []
  if (f.unknownShare) parts.push(`unknown ${pct(f.unknownShare)}`)
  if (f.otherwise) parts.push(`${f.otherwise.target} (${f.otherwise.table} ${f.otherwise.chain})`)
  return parts.join('; ')
}

/** The verdict's first words, for one row: "DNAT", "REJECT", "unknown", "not hooked", "DNAT, else unknown". */
function shortVerdict(v: string): string {
  return v.split(', else ').map((p) => p.replace(/ \(.*$/, '').replace(/:.*$/, '')).join(', else ')
}

function serviceView(s: ServiceTrace, wide: boolean): string {
  const out: string[] = []
  out.push(fields([
    ['Service', `${s.service ?? '(unnamed)'} (${s.protocol})`],
    ['Mode', s.mode],
    ['Chain', s.chain],
    ['Verdict', s.verdict],
    ['Affinity', s.sessionAffinity ? `ClientIP, ${s.sessionAffinity.timeoutSeconds ?? '?'}s` : null],
    ['Masquerade', s.masquerade.map((m) => `${m.when} (${m.chain})`).join('; ')],
    ['Traffic policy', [s.externalTrafficPolicy && `external ${s.externalTrafficPolicy}`, s.internalTrafficPolicy && `internal ${s.internalTrafficPolicy}`].filter(Boolean).join(', ')],
    ['Health check', s.healthCheckNodePort],
  ]))
  if (s.frontends.length) {
    out.push(columns(['frontend', 'dnat', 'when', 'otherwise', ...(wide ? ['masquerade'] : [])], s.frontends.map((f) => [
      frontendText(f) + (f.via ? ` via ${f.via}` : '') + (f.sourceRanges?.length ? ` from ${f.sourceRanges.join(',')}` : ''),
      pct(f.dnatProbability), f.dnatWhen.join(' | '), otherwiseText(f), ...(wide ? [(f.masqueradeWhen ?? []).join('; ')] : []),
    ])))
  }
  const unknown = s.unknown ?? []
  if (s.endpoints.length || unknown.length) {
    out.push(columns(['endpoint', 'probability', 'chain', 'location', 'onward', ...(wide ? ['masquerade'] : [])], [
      ...s.endpoints.map((e) => [
        `${e.ip}:${e.port ?? '*'}`, e.conditional ? `0 (only ${e.conditional})` : `${pct(e.probability)}${e.ruleProbability !== null ? ` (rule ${e.ruleProbability})` : ''}`,
        e.chain, e.location, onward(e), ...(wide ? [e.masqueradeWhen.join('; ')] : []),
      ]),
      // what the rules read cannot follow: a share with its reason, never counted as an endpoint
      ...unknown.map((u) => ['?', pct(u.share), u.chain, 'unknown', u.reason, ...(wide ? [''] : [])]),
    ]))
  }
  if (s.path.length) {
    out.push('\nPath:')
    for (const h of s.path) out.push(`  ${h.table} ${h.chain}${h.probability !== undefined ? ` [p=${h.probability}]` : ''}${h.condition ? ` [if ${h.condition}]` : ''}\n      ${h.rule}`)
  }
  if (s.problems.length) out.push('\nProblems:\n' + s.problems.map((p) => `  - ${p}`).join('\n'))
  return out.join('\n') + '\n'
}

function footer(r: SvcReport): string {
  const lines: string[] = []
  if (r.partial.length) lines.push(`Capture: partial (${r.partial.join(', ')}); what it does not show is "unknown"`)
  if (r.missingEntryChains.length) lines.push(`Entry chains not in the rules read: ${r.missingEntryChains.join(', ')}`)
  if (r.unresolved.length) lines.push('Unresolved frontends:', ...r.unresolved.map((u) => `  - ${u.service ?? '?'} ${u.ip ?? '*'}:${u.port}/${u.protocol} -> missing chain ${u.chain}`))
  if (r.problems.length) lines.push('Problems:', ...r.problems.map((p) => `  - ${p}`))
  if (r.notes.length) lines.push('Notes:', ...r.notes.map((n) => `  - ${n}`))
  return lines.length ? '\n' + lines.join('\n') + '\n' : ''
}

/** `svc NAME` / `svc --ip`: one block per service port. */
export function renderServices(r: SvcReport, wide: boolean): string {
  const head = `Rules: ${r.mode}, ${r.source}${r.masqueradeMark ? `; masquerade mark ${r.masqueradeMark}` : ''}${r.clusterCIDR ? `; pod traffic ${r.clusterCIDR}` : ''}\n\n`
  return printable(head + r.services.map((s) => serviceView(s, wide)).join('\n---\n\n') + footer(r))
}

/** `svc -A`: one row per service port. */
export function renderAll(r: SvcReport, wide: boolean): string {
  const rows = r.services.map((s) => {
    const local = s.endpoints.filter((e) => e.location === 'local').length
    const remote = s.endpoints.filter((e) => e.location === 'remote').length
    // 80 columns hold the name and frontend whole only if the local count rides with the total
    const endpoints = wide ? [s.endpoints.length, local, remote] : [local ? `${s.endpoints.length} (${local} local)` : s.endpoints.length]
    return [
      s.service ?? `(${s.chain ?? 'unnamed'})`, s.protocol,
      s.frontends.map((f) => `${f.kind === 'nodePort' ? 'np ' : f.kind === 'clusterIP' ? '' : f.kind === 'loadBalancer' ? 'lb ' : 'ext '}${f.ip ?? '*'}:${f.port || '*'}`).join(','),
      ...endpoints, shortVerdict(s.verdict), wide ? s.problems.join('; ') : s.problems.length,
    ]
  })
  const head = ['service', 'proto', 'frontends', 'endpoints', ...(wide ? ['local', 'remote'] : []), 'verdict', 'problems']
  return printable(columns(head, rows) + footer(r))
}

function id(text: string): string {
  return 'n' + text.replace(/[^A-Za-z0-9]/g, '_')
}

interface Edge {
  from: string
  to: string
  label: string
}

function edgesOf(s: ServiceTrace): {nodes: Map<string, string>; edges: Edge[]} {
  const nodes = new Map<string, string>()
  const edges: Edge[] = []
  const seen = new Set<string>()
  const edge = (from: string, to: string, label: string) => {
    nodes.set(id(from), from)
    nodes.set(id(to), to)
    const key = `${from}>${to}>${label}`
    if (seen.has(key)) return
    seen.add(key)
    edges.push({from, to, label})
  }
  for (const f of s.frontends) {
    const fe = frontendText(f)
    if (f.chain) edge(fe, f.chain, '')
    if (f.otherwise) edge(fe, `${f.otherwise.target} (${f.otherwise.chain})`, f.dnatWhen.length ? 'otherwise' : '')
  }
  for (const h of s.path) {
    const next = /-[jg] (\S+)/.exec(h.rule)?.[1] ?? /(?:goto|jump) (\S+)/.exec(h.rule)?.[1]
    if (next && next !== 'DNAT' && !next.startsWith('KUBE-MARK') && next !== 'mark-for-masquerade') {
      edge(h.chain, next, [h.probability !== undefined ? `p=${h.probability}` : '', h.condition ? `if ${h.condition}` : ''].filter(Boolean).join(' '))
    }
  }
  for (const e of s.endpoints) {
    const leaf = `${e.ip}:${e.port ?? '*'}\\n${onward(e)}`
    edge(e.chain, leaf, `DNAT ${pct(e.probability)}`)
  }
  return {nodes, edges}
}

function quote(text: string): string {
  return text.replace(/"/g, "'")
}

/** Graphviz dot or mermaid flowchart of the traced path(s). */
export function renderGraph(r: SvcReport, format: 'dot' | 'mermaid'): string {
  const lines: string[] = []
  if (format === 'dot') lines.push('digraph svc {', '  rankdir=LR;', '  node [shape=box, fontname="monospace"];')
  else lines.push('flowchart LR')
  for (const s of r.services) {
    const {nodes, edges} = edgesOf(s)
    if (format === 'dot') {
      lines.push(`  subgraph "cluster_${quote(s.service ?? 'unnamed')}_${s.protocol}" {`, `    label="${quote(s.service ?? '(unnamed)')} ${s.protocol}";`)
      for (const [k, v] of nodes) lines.push(`    ${k} [label="${quote(v)}"];`)
      for (const e of edges) lines.push(`    ${id(e.from)} -> ${id(e.to)}${e.label ? ` [label="${quote(e.label)}"]` : ''};`)
      lines.push('  }')
    } else {
      lines.push(`  subgraph ${id(`${s.service}_${s.protocol}`)}["${quote(s.service ?? '(unnamed)')} ${s.protocol}"]`)
      for (const [k, v] of nodes) lines.push(`    ${k}["${quote(v.replace(/\\n/g, '<br/>'))}"]`)
      for (const e of edges) lines.push(`    ${id(e.from)} -->${e.label ? `|"${quote(e.label)}"|` : ''} ${id(e.to)}`)
      lines.push('  end')
    }
  }
  if (format === 'dot') lines.push('}')
  return printable(lines.join('\n') + '\n')
}

/** `svc -o json`: a ServiceList document (mode, services, findings); `-o name`: service/NAMESPACE/NAME:PORT as kube-proxy names it. */
export const SERVICE_LIST: DocumentShape<SvcReport> = {
  kind: 'ServiceList',
  items: (r) => r.services,
  withItems: (r, services) => ({...r, services: services as ServiceTrace[]}),
  name: (s: ServiceTrace) => `service/${s.service ?? s.chain ?? s.frontends[0]?.ip ?? '-'}`,
}
