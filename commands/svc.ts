import {Args, Flags} from '@oclif/core'
import {NodedocCommand} from '../src/cli/base-command.js'
import {NodedocError} from '../src/errors.js'
import {printSvc, traceSvc} from '../src/cli/svc.js'

// a live `svc NAME` usually starts without oclif (src/cli/direct-svc.ts); these flags are what it mirrors
export default class Svc extends NodedocCommand {
  static summary = "A Service's path through kube-proxy's rules to the endpoint (and pod) that answers"
  static description = 'Default scope: the service named, in any namespace where the name is unique (-n to choose). -A means every service in every namespace, as in kubectl. (In ps, -A means every process, as in procps.) Rules from a file (--iptables-save, --nft, --ipvsadm) may be a pasted, partial capture: what it does not show is reported as unknown.'
  static examples = [
    '<%= config.bin %> svc kube-dns -n kube-system',
    '<%= config.bin %> svc kube-dns -n kube-system --port dns-tcp -o json',
    '<%= config.bin %> svc --ip 10.96.0.10 --port 53 --protocol udp',
    '<%= config.bin %> svc -A',
    '<%= config.bin %> svc my-svc --graph dot | dot -Tsvg > path.svg',
    '<%= config.bin %> svc -A --iptables-save saved-rules.txt',
    '<%= config.bin %> svc -A --iptables-save pasted-from-an-issue.txt --from node-snapshot.tar.gz',
    '<%= config.bin %> svc kube-dns -n kube-system --from node-snapshot.tar.gz',
    '<%= config.bin %> svc kube-dns -n kube-system --port dns --probe --from-pod default/web-0   # writes to the node: see --probe',
  ]
  // ignoreStdin: oclif would read stdin for a missing NAME, and stdin may be the rules (--iptables-save -)
  static args = {name: Args.string({description: 'service name, or namespace/name', required: false, ignoreStdin: true})}
  static flags = {
    namespace: Flags.string({char: 'n', description: 'service namespace (default: any namespace)'}),
    port: Flags.string({description: 'service port name (or number)'}),
    ip: Flags.string({description: 'find the service by a frontend address (ClusterIP, external or LB IP)'}),
    protocol: Flags.string({description: 'tcp, udp or sctp', options: ['tcp', 'udp', 'sctp']}),
    'all-namespaces': Flags.boolean({char: 'A', description: 'one row per service port, every namespace'}),
    graph: Flags.string({description: 'print the traced path as a graph description', options: ['dot', 'mermaid']}),
    'iptables-save': Flags.string({description: 'read this iptables-save output (or iptables-restore input, or a pasted excerpt) instead of the node'}),
    nft: Flags.string({description: 'read this `nft -j list ruleset` or `nft list ruleset` output (or kube-proxy nft -f text) instead of the node'}),
    ipvsadm: Flags.string({description: 'read this `ipvsadm -Ln` output instead of the node'}),
    'iptables-backend': Flags.string({description: 'which iptables rule set kube-proxy uses (auto: as its iptables wrapper decides)', options: ['auto', 'nft', 'legacy'], default: 'auto'}),
    'live-routes': Flags.boolean({description: "with rules from a file: locate endpoints with this machine's routes and pods (else only --from gives a node's)"}),
    probe: Flags.boolean({description: 'WRITES TO THE NODE: open real connections (udp: datagrams, a DNS query on port 53) to each frontend and read from conntrack where each went; the client process and the conntrack entries are removed again on success, failure and Ctrl-C (docs/probe.md)'}),
    'from-pod': Flags.string({description: "probe from inside this pod's network namespace ([namespace/]name)", dependsOn: ['probe'], exclusive: ['from-node']}),
    'from-node': Flags.boolean({description: "probe from the node's own network namespace (the default)", dependsOn: ['probe']}),
    count: Flags.integer({description: 'connections or datagrams per frontend (default 20)', min: 1, max: 1000, dependsOn: ['probe']}),
  }

  async run(): Promise<void> {
    const {args, flags, metadata} = await this.parse(Svc)
    const report = await traceSvc(args, flags, !metadata.flags['host-root']?.setFromDefault, (chosen) => this.openHost(chosen))
    if (!flags.probe) return printSvc(this.host, report, flags)
    const host = this.host!
    if (report.services.length !== 1) throw new NodedocError(`--probe needs one service port; ${report.services.length} match: choose one with --port (${report.services.map((s) => s.service).join(', ')})`, 2)
    // loaded only for --probe: its writers pull in node:crypto and node:readline, ~30 ms of every svc run's start
    const [{SERVICE_PROBE, renderServiceProbe}, {probeServicePort}, {resolveSource}, {interruptible}] = await Promise.all([
      import('../src/probe/render.js'), import('../src/probe/service-probe.js'), import('../src/probe/source.js'), import('../src/probe/probe.js'),
    ])
    const from = await resolveSource(host, flags['from-pod'])
    const {report: probe, notes} = await interruptible((signal) => probeServicePort(host, report.services[0], {from, count: flags.count ?? 20, signal}))
    await this.print({...report, notes: [...report.notes, ...notes], probe}, flags, renderServiceProbe, SERVICE_PROBE)
    if (probe.findings.length) process.exitCode = 1
  }
}
