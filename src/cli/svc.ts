// `nodedoc svc`'s work once its flags are parsed, shared by oclif's Svc class (commands/svc.ts)
// and the launcher's direct path (direct-svc.ts): one body, so both answer alike. --probe is
// the Svc class's alone (the direct path never takes it).
import type {Host} from '../host/host.js'
import {NodedocError} from '../errors.js'
import {terminalSafe} from '../output/escape.js'
import {withProgress} from '../output/progress.js'
import {SERVICE_LIST, renderAll, renderGraph, renderServices} from '../svc/render.js'
import type {SvcReport} from '../svc/correlate.js'
import {svcReport} from '../svc/svc.js'
import {type OutputFlags, printRecord} from './answer.js'

export interface SvcArgs {
  name?: string
}

export interface SvcFlags extends OutputFlags {
  namespace?: string
  port?: string
  ip?: string
  protocol?: string
  'all-namespaces'?: boolean
  graph?: string
  'iptables-save'?: string
  nft?: string
  ipvsadm?: string
  'iptables-backend'?: string
  'live-routes'?: boolean
  'host-root'?: string
  from?: string
}

/**
 * The svc report the arguments ask for. open gives the Host the flags name (and keeps it for the
 * warnings); hostRootGiven: --host-root or NODEDOC_HOST_ROOT was set (not its default).
 */
export async function traceSvc(args: SvcArgs, flags: SvcFlags, hostRootGiven: boolean, open: (flags: SvcFlags) => Promise<Host>): Promise<SvcReport> {
  if (!args.name && !flags.ip && !flags['all-namespaces']) throw new NodedocError('name a service, or give --ip ADDRESS, or -A for every service')
  const host = await open(flags)
  // rules from a file are some other node's: its routes come from its snapshot, or from here only when asked
  const hereOnPurpose = flags['live-routes'] || hostRootGiven
  // a spinner on stderr, on a terminal only, for runs past a moment (10k services take seconds)
  return withProgress('svc', (progress) => svcReport(host, {
    query: {name: args.name, namespace: flags.namespace, port: flags.port, ip: flags.ip, protocol: flags.protocol},
    all: flags['all-namespaces'] ?? false,
    files: {iptablesSave: flags['iptables-save'], nft: flags.nft, ipvsadm: flags.ipvsadm},
    backend: (flags['iptables-backend'] ?? 'auto') as 'auto' | 'nft' | 'legacy',
    cwd: process.cwd(),
    filesNetwork: flags.from || hereOnPurpose ? 'host' : 'none',
    progress,
  }))
}

/** The report as --graph, -o and the scope ask (everything but --probe's answer). */
export async function printSvc(host: Host | undefined, report: SvcReport, flags: SvcFlags): Promise<void> {
  if (flags.graph) {
    process.stdout.write(terminalSafe(renderGraph(report, flags.graph as 'dot' | 'mermaid')))
    return
  }
  await printRecord(host, report, flags, flags['all-namespaces'] ? renderAll : renderServices, SERVICE_LIST)
}
