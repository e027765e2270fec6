// Tables of `svc --probe` and `trace`. JSON/YAML come from the shared output layer. Rule text,
// pod names and DNS answers come from the node: control characters are shown, never sent.

import {escapeControl} from '../output/escape.js'
import type {DocumentShape} from '../output/output.js'
import {columns, fields} from '../output/table.js'
import type {SvcReport} from '../svc/correlate.js'
import {renderServices} from '../svc/render.js'
import type {TraceHop, TraceReport} from './trace-types.js'
import type {EndpointTally, ProbeSource, ServiceProbeReport} from './types.js'

function pct(p: number): string {
  return `${(p * 100).toFixed(1)}%`
}

export function sourceText(s: ProbeSource): string {
  return s.kind === 'node' ? 'the node' : `pod ${escapeControl(`${s.namespace ?? '?'}/${s.name ?? '?'}`)} (${s.ip ?? 'no IP'}, netns of PID ${s.pid})`
}

export function probeView(p: ServiceProbeReport): string {
  const out: string[] = []
  out.push(fields([
    ['Probe', `from ${sourceText(p.from)}, ${p.count} per frontend`],
    ['Sent', `${p.sent}: ${p.answered} answered, ${p.refused} refused, ${p.timedOut} timed out${p.errors ? `, ${p.errors} errors` : ''}`],
    ['Predicted', p.predictedVerdict],
    ['Fit', p.chiSquare !== null ? `chi-square ${p.chiSquare} (${p.degreesOfFreedom} df), p = ${p.pValue}` : p.affinityHeld !== null ? `session affinity ${p.affinityHeld ? 'held: every flow to one endpoint' : 'broken'}` : null],
  ]))
  const landed = p.endpoints.reduce((n, e) => n + e.observed, 0)
  if (p.endpoints.length || p.unpredicted.length) {
    out.push(columns(['endpoint', 'predicted', 'observed', 'share', 'chain'], [
      ...p.endpoints.map((e) => [`${e.ip}:${e.port ?? '*'}`, pct(e.predicted), e.observed, landed ? pct(e.observed / landed) : '-', e.chain]),
      ...p.unpredicted.map((u) => [`${u.ip}:${u.port ?? '*'}`, 'none', u.observed, '-', 'not predicted']),
    ]))
  }
  out.push(columns(['frontend', 'sent', 'answered', 'refused', 'timed out', 'errors'], p.frontends.map((f) => [
    `${f.target.ip}:${f.target.port}/${f.target.protocol}`, f.sent, f.answered, f.refused, f.timedOut, f.errors,
  ])))
  const dns = p.frontends.flatMap((f) => f.attempts).map((a) => a.dns).filter((d) => d)
  if (dns.length) {
    const rcodes = new Map<string, number>()
    for (const d of dns) rcodes.set(d!.rcode, (rcodes.get(d!.rcode) ?? 0) + 1)
    out.push(`DNS answers: ${[...rcodes].map(([r, n]) => `${n} ${r}`).join(', ')}${dns[0]!.answers.length ? `; e.g. ${dns[0]!.answers.map((a) => escapeControl(`${a.name} ${a.type} ${a.data}`)).join(', ')}` : ''}\n`)
  }
  if (p.skipped.length) out.push('Not probed:\n' + p.skipped.map((s) => `  - ${s}`).join('\n') + '\n')
  if (p.findings.length) out.push('Findings:\n' + p.findings.map((f) => `  - ${escapeControl(f)}`).join('\n') + '\n')
  if (p.cleanup.length) out.push('Removed after probing:\n' + p.cleanup.map((c) => `  - ${c}`).join('\n') + '\n')
  return out.join('\n')
}

/** `svc NAME --probe`: which service and rules, then what the probes found (-o wide: the whole svc view first). */
export function renderServiceProbe(r: SvcReport & {probe: ServiceProbeReport}, wide: boolean): string {
  if (wide) return renderServices(r, true) + '\n===\n\n' + probeView(r.probe)
  const s = r.services[0]
  const head = fields([
    ['Service', s ? `${escapeControl(s.service ?? '(unnamed)')} (${s.protocol})` : '-'],
    ['Rules', `${r.mode}, ${escapeControl(r.source)}`],
    ['Chain', s?.chain ?? null],
    ['Affinity', s?.sessionAffinity ? `ClientIP, ${s.sessionAffinity.timeoutSeconds ?? '?'}s` : null],
  ])
  return head + probeView(r.probe)
}

function hopVerdict(verdict: string | null): string {
  return verdict ?? '-'
}

export function renderTrace(r: TraceReport, wide: boolean): string {
  const out: string[] = []
  out.push(fields([
    ['Trace', `${r.to.ip}:${r.to.port}/${r.to.protocol}${r.service ? ` (${escapeControl(r.service)})` : ''} from ${sourceText(r.from)}`],
    ['Mode', r.mode],
    ['Packet', `source port ${r.packet.sourcePort}: ${r.packet.result}${r.packet.error ? ` (${r.packet.error})` : ''} in ${r.packet.ms} ms`],
    ['Conntrack', r.conntrack ? `reply from ${r.conntrack.ip}:${r.conntrack.port ?? '*'}${r.conntrack.state ? ` (${r.conntrack.state})` : ''}` : 'no entry'],
  ]))
  out.push(columns(['#', 'table', 'chain', 'rule', 'verdict', ...(wide ? ['matched'] : [])], r.trace.hops.map((h, i) => [
    i + 1, `${h.family} ${h.table}`, escapeControl(h.chain), h.kind === 'rule' ? (h.position ?? '?') : h.kind, hopVerdict(h.verdict),
    ...(wide ? [h.rule ? escapeControl(h.rule) : '-'] : []),
  ])))
  out.push(fields([
    ['Predicted', `${r.predicted.route.join(' -> ') || '-'}; ${r.predicted.verdict}`],
    ['Observed', `${r.observed.route.join(' -> ') || '-'}; ${r.observed.verdict}`],
    ['Rules read', escapeControl(r.predicted.source)],
  ]))
  out.push(r.differences.length ? 'Differences:\n' + r.differences.map((d) => `  - ${escapeControl(d)}`).join('\n') + '\n' : 'No difference: the packet took the predicted path.\n')
  if (r.notes.length) out.push('Notes:\n' + r.notes.map((n) => `  - ${escapeControl(n)}`).join('\n') + '\n')
  if (r.cleanup.length) out.push('Removed after tracing:\n' + r.cleanup.map((c) => `  - ${c}`).join('\n') + '\n')
  return out.join('\n')
}

/** `svc NAME --probe -o json`: the svc document with `probe` beside it; its records are the endpoints' tallies. */
export const SERVICE_PROBE: DocumentShape<SvcReport & {probe: ServiceProbeReport}> = {
  kind: 'ServiceProbe',
  items: (r) => r.probe.endpoints,
  withItems: (r, endpoints) => ({...r, probe: {...r.probe, endpoints: endpoints as EndpointTally[]}}),
  name: (e: EndpointTally) => `endpoint/${e.ip}:${e.port ?? '*'}`,
}

/** `trace -o json`: a Trace document; its records are the hops, in the kernel's order. */
export const TRACE: DocumentShape<TraceReport> = {
  kind: 'Trace',
  items: (r) => r.trace.hops,
  withItems: (r, hops) => ({...r, trace: {hops: hops as TraceHop[]}}),
}
