import {Flags} from '@oclif/core'
import {NodedocCommand} from '../src/cli/base-command.js'
import {NodedocError} from '../src/errors.js'
import {TRACE, renderTrace} from '../src/probe/render.js'
import {interruptible} from '../src/probe/probe.js'
import {resolveSource} from '../src/probe/source.js'
import {parseTarget, rulesFromFiles, traceService} from '../src/probe/trace-service.js'

export default class Trace extends NodedocCommand {
  static summary = 'WRITES TO THE NODE: send one real packet to a Service frontend and show each chain and rule it hit, beside the path svc predicted'
  static description = `Marks one packet for tracing with a rule of nodedoc's own (nf_tables: a \`meta nftrace set 1\` rule in table inet nodedoc-<id>, which the kernel drops when its nft process ends; iptables-legacy: a TRACE rule first in the raw table) and removes it again on success, failure and Ctrl-C. kube-proxy's tables and chains are never written. Only a Service frontend (ClusterIP, external or LoadBalancer IP and port) may be the destination. Differences between the predicted and the observed path are findings: exit code 1. See docs/probe.md.`
  static examples = [
    '<%= config.bin %> trace --from-pod default/web-0 --to 10.96.0.10:53/udp',
    '<%= config.bin %> trace --from-node --to 10.96.0.1:443 -o json',
    '<%= config.bin %> trace --from-pod web-0 --to 10.96.0.20:80 --iptables-save rules-yesterday.txt   # predict from saved rules',
  ]
  static flags = {
    'from-pod': Flags.string({description: "send from inside this pod's network namespace ([namespace/]name)", exclusive: ['from-node']}),
    'from-node': Flags.boolean({description: "send from the node's own network namespace (the default)"}),
    to: Flags.string({description: 'the Service frontend: IP:PORT, optionally /udp (default tcp)', required: true}),
    'iptables-backend': Flags.string({description: 'which iptables rule set kube-proxy uses (auto: as its iptables wrapper decides)', options: ['auto', 'nft', 'legacy'], default: 'auto'}),
    'iptables-save': Flags.string({description: 'predict from this iptables-save output instead of the rules read now'}),
    nft: Flags.string({description: 'predict from this `nft -j list ruleset` (or listing) instead of the rules read now'}),
    timeout: Flags.integer({description: 'milliseconds to wait for an answer to the packet', default: 2000, min: 100, max: 60_000}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Trace)
    const to = parseTarget(flags.to)
    if (!to) throw new NodedocError(`--to ${flags.to}: expected IP:PORT or IP:PORT/udp (IPv6 as [IP]:PORT)`, 2)
    const host = await this.openHost(flags)
    const from = await resolveSource(host, flags['from-pod'])
    const predictFrom = await rulesFromFiles({iptablesSave: flags['iptables-save'], nft: flags.nft})
    const report = await interruptible((signal) => traceService(host, {from, to, backend: flags['iptables-backend'] as 'auto' | 'nft' | 'legacy', predictFrom, timeoutMs: flags.timeout, signal}))
    await this.print(report, flags, renderTrace, TRACE)
    if (report.differences.length) process.exitCode = 1
  }
}
