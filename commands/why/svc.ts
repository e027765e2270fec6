import {Args, Flags} from '@oclif/core'
import {NodedocCommand} from '../../src/cli/base-command.js'
import {NodedocError} from '../../src/errors.js'
import {findPod} from '../../src/pods/pods.js'
import {podNotFound} from '../../src/pods/render.js'
import {proberFor} from '../../src/why/probe-wiring.js'
import {WHY_DOCUMENT, exitCodeOf, renderWhy} from '../../src/why/render.js'
import {whySvc} from '../../src/why/svc.js'

export default class WhySvc extends NodedocCommand {
  static summary = 'Why a pod (or the node) cannot reach a Service: its route, kube-proxy\'s hook, endpoints, hairpin, routes, pods, the node'
  static description = 'Exit 0: the chain holds; 1: a link is broken; 2: usage or internal error.'
  static examples = [
    '<%= config.bin %> why svc kube-dns -n kube-system --port dns --from-pod client',
    '<%= config.bin %> why svc web --from-pod shop/frontend -o json',
    '<%= config.bin %> why svc web --from-node',
  ]
  static args = {name: Args.string({description: 'service name, or namespace/name', required: true})}
  static flags = {
    namespace: Flags.string({char: 'n', description: 'service namespace (default: any namespace)'}),
    port: Flags.string({description: 'service port name (or number), for a Service with several'}),
    protocol: Flags.string({description: 'tcp, udp or sctp', options: ['tcp', 'udp', 'sctp']}),
    'from-pod': Flags.string({description: 'the sending pod: NAME or NAMESPACE/NAME', exclusive: ['from-node']}),
    'from-node': Flags.boolean({description: 'the node itself sends (hostNetwork pods too)', exclusive: ['from-pod']}),
    probe: Flags.boolean({description: 'WRITES TO THE NODE: end with a real connection from the sender, as svc --probe opens it; its journal and conntrack entry are removed again (docs/probe.md)'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(WhySvc)
    if (!flags['from-pod'] && !flags['from-node']) throw new NodedocError('say who sends: --from-pod POD or --from-node', 2)
    const host = await this.openHost(flags)
    let source = null
    if (flags['from-pod']) {
      const [namespace, name] = flags['from-pod'].includes('/') ? flags['from-pod'].split('/', 2) : [undefined, flags['from-pod']]
      const lookup = await findPod(host, {name, namespace})
      if (lookup.kind !== 'found') {
        const [message, , detail] = podNotFound(lookup, name, namespace)
        throw new NodedocError(message, 2, detail)
      }
      source = lookup.report
    }
    const query = {name: args.name, namespace: flags.namespace, port: flags.port, protocol: flags.protocol}
    const report = await whySvc(host, query, source, {prober: flags.probe ? proberFor(host) : undefined})
    await this.print(report, flags, renderWhy, WHY_DOCUMENT)
    process.exitCode = exitCodeOf(report)
  }
}
