// Where the probes went, beside where the rules said they would go: per endpoint counts, the
// chi-square fit of the shares, session affinity, and the differences worth an exit code.

import type {ServiceTrace} from '../svc/types.js'
import {chiSquare} from './chi-square.js'
import type {EndpointTally, FrontendProbe, ProbeSource, ServiceProbeReport} from './types.js'

/** Shares below this chance of arising from the predicted split are a finding. */
export const SIGNIFICANCE = 0.001

const key = (ip: string, port: number | null) => `${ip}|${port ?? '*'}`

/** What the rules predict for a new connection to this service: DNAT, or the verdict that answers instead. */
export function predictsDnat(service: ServiceTrace): boolean {
  return service.endpoints.length > 0 && service.frontends.some((f) => f.dnatProbability > 0 || f.dnatWhen.length > 0)
}

function errorCodes(frontends: FrontendProbe[]): string {
  const codes = new Map<string, number>()
  for (const a of frontends.flatMap((f) => f.attempts)) if (a.result === 'error') codes.set(a.error ?? '?', (codes.get(a.error ?? '?') ?? 0) + 1)
  return [...codes].map(([c, n]) => `${n} ${c}`).join(', ')
}

function percent(n: number): string {
  return `${(n * 100).toFixed(1)}%`
}

export function tallyProbe(service: ServiceTrace, frontends: FrontendProbe[], source: ProbeSource, count: number, skipped: string[] = [], cleanup: string[] = []): ServiceProbeReport {
  const endpoints: EndpointTally[] = service.endpoints.map((e) => ({ip: e.ip, port: e.port, predicted: e.probability, observed: 0, chain: e.chain}))
  const byKey = new Map(endpoints.map((e) => [key(e.ip, e.port), e]))
  const unpredicted = new Map<string, {ip: string; port: number | null; observed: number}>()
  const findings: string[] = []
  const attempts = frontends.flatMap((f) => f.attempts)
  for (const a of attempts) {
    if (!a.endpoint) continue
    const k = key(a.endpoint.ip, a.endpoint.port)
    const hit = byKey.get(k)
    if (hit) hit.observed++
    else {
      // the flow was not DNATed (the reply comes from the frontend itself) or went to an endpoint the rules do not name
      const u = unpredicted.get(k) ?? {ip: a.endpoint.ip, port: a.endpoint.port, observed: 0}
      u.observed++
      unpredicted.set(k, u)
    }
  }
  const sum = (f: (p: FrontendProbe) => number) => frontends.reduce((n, p) => n + f(p), 0)
  const sent = sum((p) => p.sent)
  const answered = sum((p) => p.answered)
  const refused = sum((p) => p.refused)
  const timedOut = sum((p) => p.timedOut)
  const errors = sum((p) => p.errors)
  const dnat = predictsDnat(service)
  const predictedVerdict = dnat ? 'DNAT' : service.verdict

  if (dnat) {
    if (refused) findings.push(`${refused} of ${sent} refused, but the rules DNAT every new connection to an endpoint`)
    if (timedOut) findings.push(`${timedOut} of ${sent} timed out, but the rules DNAT every new connection to an endpoint`)
    if (errors) findings.push(`${errors} of ${sent} failed (${errorCodes(frontends)}), but the rules DNAT every new connection to an endpoint`)
    for (const u of unpredicted.values()) {
      const frontend = service.frontends.some((f) => f.ip === u.ip && f.port === u.port)
      findings.push(frontend
        ? `${u.observed} flow(s) were not DNATed (conntrack's reply comes from the frontend ${u.ip}:${u.port} itself)`
        : `${u.observed} flow(s) went to ${u.ip}:${u.port ?? '*'}, which no rule of this service names`)
    }
  } else if (answered) {
    findings.push(`${answered} of ${sent} answered, but the rules predict ${service.verdict}`)
  }
  for (const f of frontends) {
    const missing = f.attempts.filter((a) => a.result === 'answered' && !a.conntrack).length
    if (missing) findings.push(`${missing} answered flow(s) to ${f.target.ip}:${f.target.port} left no conntrack entry to read`)
  }

  let fit: ReturnType<typeof chiSquare> = null
  let affinityHeld: boolean | null = null
  const landed = endpoints.reduce((n, e) => n + e.observed, 0)
  if (service.sessionAffinity) {
    const used = endpoints.filter((e) => e.observed > 0)
    affinityHeld = landed > 0 ? used.length === 1 : null
    if (affinityHeld === false) findings.push(`ClientIP session affinity, yet one source reached ${used.length} endpoints: ${used.map((e) => `${e.ip}:${e.port ?? '*'} ${e.observed}`).join(', ')}`)
  } else if (landed > 0) {
    fit = chiSquare(endpoints.map((e) => e.observed), endpoints.map((e) => e.predicted))
    if (fit && fit.pValue < SIGNIFICANCE) {
      findings.push(`observed shares do not fit the rules' (chi-square ${fit.statistic.toFixed(2)}, ${fit.degreesOfFreedom} df, p = ${fit.pValue.toExponential(2)} < ${SIGNIFICANCE}): ${endpoints.map((e) => `${e.ip} ${e.observed}/${landed} vs ${percent(e.predicted)}`).join(', ')}`)
    }
    for (const e of endpoints) if (e.predicted === 0 && e.observed > 0) findings.push(`${e.observed} flow(s) reached ${e.ip}:${e.port ?? '*'}, which the rules give no share of new connections`)
  }
  return {
    from: source, count, sent, answered, refused, timedOut, errors, endpoints, unpredicted: [...unpredicted.values()],
    chiSquare: fit ? Math.round(fit.statistic * 1e4) / 1e4 : null,
    degreesOfFreedom: fit?.degreesOfFreedom ?? null,
    pValue: fit ? Number(fit.pValue.toPrecision(4)) : null,
    affinityHeld, predictedVerdict, frontends, skipped, findings, cleanup,
  }
}
