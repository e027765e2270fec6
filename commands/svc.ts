import {Args, Flags} from '@oclif/core'
import {NodedocCommand} from '../src/cli/base-command.js'
import {NodedocError} from '../src/errors.js'
import {gatherPods} from '../src/pods/pods.js'
import {gatherHostRoutes} from '../src/pods/routes.js'
import {type KubeProxyRules, gatherKubeProxyRules, readRulesFile} from '../src/svc/gather.js'
import {RulesReadError, buildSvcReport} from '../src/svc/correlate.js'
import {SERVICE_LIST, renderAll, renderGraph, renderServices} from '../src/svc/render.js'

export default class Svc extends NodedocCommand {
  static summary = "A Service's path through kube-proxy's rules to the endpoint (and pod) that answers"
  static description = 'Default scope: the service named, in any namespace where the name is unique (-n to choose). -A means every service in every namespace, as in kubectl. (In ps, -A means every process, as in procps.)'
  static examples = [
    '<%= config.bin %> svc kube-dns -n kube-system',
    '<%= config.bin %> svc kube-dns -n kube-system --port dns-tcp -o json',
    '<%= config.bin %> svc --ip 10.96.0.10 --port 53 --protocol udp',
    '<%= config.bin %> svc -A',
    '<%= config.bin %> svc my-svc --graph dot | dot -Tsvg > path.svg',
    '<%= config.bin %> svc -A --iptables-save saved-rules.txt',
    '<%= config.bin %> svc kube-dns -n kube-system --from node-snapshot.tar.gz',
  ]
  static args = {name: Args.string({description: 'service name, or namespace/name', required: false})}
  static flags = {
    namespace: Flags.string({char: 'n', description: 'service namespace (default: any namespace)'}),
    port: Flags.string({description: 'service port name (or number)'}),
    ip: Flags.string({description: 'find the service by a frontend address (ClusterIP, external or LB IP)'}),
    protocol: Flags.string({description: 'tcp, udp or sctp', options: ['tcp', 'udp', 'sctp']}),
    'all-namespaces': Flags.boolean({char: 'A', description: 'one row per service port, every namespace'}),
    graph: Flags.string({description: 'print the traced path as a graph description', options: ['dot', 'mermaid']}),
    'iptables-save': Flags.string({description: 'read this iptables-save output (or iptables-restore input) instead of the node'}),
    nft: Flags.string({description: 'read this `nft -j list ruleset` or `nft list ruleset` output (or kube-proxy nft -f text) instead of the node'}),
    ipvsadm: Flags.string({description: 'read this `ipvsadm -Ln` output instead of the node'}),
    'iptables-backend': Flags.string({description: 'which iptables rule set kube-proxy uses (auto: as its iptables wrapper decides)', options: ['auto', 'nft', 'legacy'], default: 'auto'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Svc)
    if (!args.name && !flags.ip && !flags['all-namespaces']) throw new NodedocError('name a service, or give --ip ADDRESS, or -A for every service')
    const host = await this.openHost(flags)
    const rules = await this.rules(flags, host)
    const [routes, pods] = await Promise.all([gatherHostRoutes(host), gatherPods(host)])
    let report
    try {
      report = buildSvcReport(rules, {routes, pods}, {name: args.name, namespace: flags.namespace, port: flags.port, ip: flags.ip, protocol: flags.protocol})
    } catch (error) {
      if (error instanceof RulesReadError) throw new NodedocError(error.message)
      throw error
    }
    const wanted = args.name ? (args.name.includes('/') || !flags.namespace ? args.name : `${flags.namespace}/${args.name}`) : flags.ip
    if (!flags['all-namespaces'] && report.services.length === 0 && report.unresolved.length === 0) {
      throw new NodedocError(`service ${wanted}${flags.port ? ` port ${flags.port}` : ''} not found in kube-proxy's rules (${report.mode}: ${report.source})`, 1, report.problems.map((p) => `  ${p}\n`).join(''))
    }
    if (flags.graph) {
      process.stdout.write(renderGraph(report, flags.graph as 'dot' | 'mermaid'))
      return
    }
    await this.print(report, flags, flags['all-namespaces'] ? renderAll : renderServices, SERVICE_LIST)
  }

  private async rules(flags: {'iptables-save'?: string; nft?: string; ipvsadm?: string; 'iptables-backend': string}, host: Parameters<typeof gatherKubeProxyRules>[0]): Promise<KubeProxyRules> {
    if (!flags['iptables-save'] && !flags.nft && !flags.ipvsadm) return gatherKubeProxyRules(host, {backend: flags['iptables-backend'] as 'auto' | 'nft' | 'legacy'})
    const read = async (file: string) => {
      const text = await readRulesFile(file, process.cwd())
      if (text === undefined) throw new NodedocError(`${file}: cannot read`)
      return text
    }
    const rules: KubeProxyRules = {iptables: null, nft: null, ipvs: null, problems: []}
    if (flags['iptables-save']) rules.iptables = {backend: 'file', reason: flags['iptables-save'], ipv4: await read(flags['iptables-save']), ipv6: ''}
    if (flags.nft) rules.nft = {text: await read(flags.nft), source: flags.nft}
    if (flags.ipvsadm) rules.ipvs = {text: await read(flags.ipvsadm), source: flags.ipvsadm}
    return rules
  }
}
