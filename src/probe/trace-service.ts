// `nodedoc trace --to IP:PORT[/udp]`: finds the Service that frontend belongs to in kube-proxy's
// rules (refusing any address that is not one: trace sends traffic to Service frontends only),
// picks how to trace from the mode kube-proxy runs in, traces one packet and puts the observed
// path beside the predicted one.

import type {Host} from '../host/host.js'
import {type KubeProxyRules, gatherKubeProxyRules, hasRulesFiles, readRulesFiles} from '../svc/gather.js'
import {buildSvcReport} from '../svc/correlate.js'
import type {ServiceTrace} from '../svc/types.js'
import {ProbeError} from './probe.js'
import {RuleBook, compareTrace} from './trace-compare.js'
import {traceFlow} from './trace.js'
import type {TraceMode, TraceReport} from './trace-types.js'
import {type ProbeProtocol, type ProbeSource, type ProbeTarget} from './types.js'

/** "10.96.0.10:53/udp", "[fd00::10]:53", "10.96.0.10:80" (tcp). */
export function parseTarget(text: string): ProbeTarget | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})(?:\/(tcp|udp))?$/i.exec(text.trim())
  if (!m) return null
  const port = Number(m[3])
  if (port < 1 || port > 65535) return null
  return {ip: (m[1] ?? m[2]).toLowerCase(), port, protocol: (m[4]?.toLowerCase() ?? 'tcp') as ProbeProtocol}
}

/** Rules a user saved (--iptables-save, --nft), to predict from; undefined when none is named. */
export async function rulesFromFiles(files: {iptablesSave?: string; nft?: string}, cwd = process.cwd()): Promise<{rules: KubeProxyRules; source: string} | undefined> {
  if (!hasRulesFiles(files)) return undefined
  return {rules: await readRulesFiles(files, cwd), source: [files.iptablesSave, files.nft].filter(Boolean).join(', ')}
}

export interface TraceRequest {
  from: ProbeSource
  to: ProbeTarget
  backend: 'auto' | 'nft' | 'legacy'
  /** predict from these rules instead of the node's (a saved iptables-save or nft dump) */
  predictFrom?: {rules: KubeProxyRules; source: string}
  timeoutMs?: number
  signal?: AbortSignal
}

function serviceFor(rules: KubeProxyRules, to: ProbeTarget): {service: ServiceTrace | undefined; source: string} {
  const report = buildSvcReport(rules, {routes: [], pods: []}, {ip: to.ip, port: String(to.port), protocol: to.protocol})
  const service = report.services.find((s) => s.frontends.some((f) => f.ip === to.ip && f.port === to.port))
  return {service, source: report.source}
}

/** How to trace, from the rules kube-proxy keeps live: its nftables table, or iptables through one backend. */
function modeOf(live: KubeProxyRules, service: ServiceTrace | undefined, to: ProbeTarget): TraceMode {
  const liveService = serviceFor(live, to).service ?? service
  if (liveService?.mode === 'nftables') return 'nftables'
  if (liveService?.mode === 'ipvs') throw new ProbeError('IPVS mode: trace follows iptables and nftables rules only (ipvsadm -Lnc shows IPVS connections)')
  return live.iptables?.backend === 'legacy' ? 'iptables-legacy' : 'iptables-nft'
}

function predictedText(rules: KubeProxyRules, mode: TraceMode, to: ProbeTarget): string | null {
  if (mode === 'nftables') return rules.nft?.text ?? null
  return (to.ip.includes(':') ? rules.iptables?.ipv6 : rules.iptables?.ipv4) ?? null
}

export async function traceService(host: Host, request: TraceRequest): Promise<TraceReport> {
  const {to, from} = request
  const live = await gatherKubeProxyRules(host, {backend: request.backend})
  const predicting = request.predictFrom?.rules ?? live
  const {service, source} = serviceFor(predicting, to)
  if (!service) {
    throw new ProbeError(`${to.ip}:${to.port}/${to.protocol} is not a frontend of any Service in kube-proxy's rules (${source || 'none read'}): trace sends traffic only to Service frontends`)
  }
  const mode = modeOf(live, service, to)
  const flow = await traceFlow(host, {mode, from, to, timeoutMs: request.timeoutMs, signal: request.signal})
  const text = predictedText(predicting, mode, to)
  const book = text ? new RuleBook({mode, text}) : null
  const compared = compareTrace(mode, service, flow.hops, book)
  const differences = [...compared.differences]
  if (flow.conntrack && compared.dnat && (flow.conntrack.ip !== compared.dnat.ip || (compared.dnat.port !== null && flow.conntrack.port !== compared.dnat.port))) {
    differences.push(`the trace shows DNAT to ${compared.dnat.ip}:${compared.dnat.port}, conntrack's reply comes from ${flow.conntrack.ip}:${flow.conntrack.port}`)
  }
  if (flow.hops.length === 0) differences.push('no trace of the packet was seen: nothing to compare')
  return {
    mode, from, to, service: service.service,
    packet: flow.packet, conntrack: flow.conntrack,
    trace: {hops: flow.hops},
    predicted: {route: compared.predictedRoute, verdict: compared.predictedVerdict, source: request.predictFrom?.source ?? source},
    observed: {route: compared.observedRoute, verdict: compared.observedVerdict, dnat: compared.dnat},
    differences, cleanup: flow.cleanup, notes: flow.notes,
  }
}
