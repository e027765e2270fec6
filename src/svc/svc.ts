// `nodedoc svc` from flags to report: the rules (the node's, or files the user names), the network
// endpoints are located against, the trace, and the one-line answers when nothing matches.

import {NodedocError} from '../errors.js'
import type {Host} from '../host/host.js'
import type {Progress} from '../output/progress.js'
import {type IptablesBackend, type RulesFiles, gatherKubeProxyRules, gatherNodeNetwork, hasRulesFiles, readRulesFiles} from './gather.js'
import {type SvcQuery, type SvcReport, buildSvcReport, queryHint} from './correlate.js'

export interface SvcOptions {
  query: SvcQuery
  /** -A: every service; no "not found" error */
  all: boolean
  files: RulesFiles
  backend: 'auto' | IptablesBackend
  /** where relative file names start */
  cwd: string
  /**
   * Where endpoints are located when the rules come from files: the Host's routes and pods ('host': a
   * snapshot given with --from, or the live node when the user said so), or nowhere ('none'). Rules read
   * from the node always use the node's.
   */
  filesNetwork: 'host' | 'none'
  /** Where the steps are told (a spinner on a terminal). */
  progress?: Progress
}

/** Rules text past this size take a second or more to trace: say so before the step starts. */
const LONG_TRACE_BYTES = 4 << 20

function rulesBytes(rules: Awaited<ReturnType<typeof gatherKubeProxyRules>>): number {
  return (rules.iptables ? rules.iptables.ipv4.length + rules.iptables.ipv6.length : 0) + (rules.nft?.text.length ?? 0) + (rules.ipvs?.text.length ?? 0)
}

/** Reads, traces and locates; throws a NodedocError (one line) when the rules cannot be read or nothing matches. */
export async function svcReport(host: Host, options: SvcOptions): Promise<SvcReport> {
  const fromFiles = hasRulesFiles(options.files)
  options.progress?.update("reading kube-proxy's rules")
  // the node's routes and pods are read while the rules' listings run (most of that is waiting)
  const [rules, net] = await Promise.all([
    fromFiles ? readRulesFiles(options.files, options.cwd) : gatherKubeProxyRules(host, {backend: options.backend, hint: options.all ? undefined : queryHint(options.query)}),
    fromFiles && options.filesNetwork === 'none' ? null : gatherNodeNetwork(host),
  ])
  const bytes = rulesBytes(rules)
  options.progress?.update(`tracing ${(bytes / 1048576).toFixed(0)} MiB of rules`, bytes > LONG_TRACE_BYTES)
  // a rule set that cannot be read throws RulesReadError, a NodedocError: one line, as any
  const report = buildSvcReport(rules, net, options.query)
  const q = options.query
  if (!options.all && report.services.length === 0 && report.unresolved.length === 0) {
    const wanted = q.name ? (q.name.includes('/') || !q.namespace ? q.name : `${q.namespace}/${q.name}`) : q.ip
    throw new NodedocError(`service ${wanted}${q.port ? ` port ${q.port}` : ''} not found in kube-proxy's rules (${report.mode}: ${report.source})`, 1, report.problems.map((p) => `  ${p}\n`).join(''))
  }
  return report
}
