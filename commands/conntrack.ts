import {Args, Flags} from '@oclif/core'
import {NodedocCommand} from '../src/cli/base-command.js'
import {NodedocError} from '../src/errors.js'
import {gatherConntrack} from '../src/inside/conntrack.js'
import {CONNTRACK_LIST, conntrackTable} from '../src/inside/render.js'

export default class Conntrack extends NodedocCommand {
  static summary = "The node's tracked connections to and from a pod (or a Service's frontends), with the DNAT applied and the pods at both ends"
  static description = "Reads the node's conntrack table (/proc/net/nf_conntrack of the node's network namespace, else `conntrack -L`), read-only. Each entry shows the original tuple (as the client sent it) and the reply tuple (as the server answers): a Service's DNAT shows as a reply from the endpoint. Without POD or --svc: entries that involve any pod of this node."
  static examples = [
    '<%= config.bin %> conntrack my-pod',
    '<%= config.bin %> conntrack --svc kube-dns -n kube-system',
    '<%= config.bin %> conntrack -o wide',
  ]
  static args = {pod: Args.string({description: 'pod name', required: false})}
  static flags = {
    namespace: Flags.string({char: 'n', description: 'pod (or service) namespace'}),
    svc: Flags.string({description: "a Service (name or namespace/name): entries to its frontends (ClusterIP, external, load-balancer IPs, NodePorts) as kube-proxy's rules name them"}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Conntrack)
    if (args.pod && flags.svc) throw new NodedocError('give a pod or --svc, not both', 2)
    const host = await this.openHost(flags)
    const records = await gatherConntrack(host, {
      pod: args.pod ? {name: args.pod, namespace: flags.namespace} : undefined,
      svc: flags.svc ? {name: flags.svc, namespace: flags.namespace} : undefined,
    })
    await this.print(records, flags, conntrackTable, CONNTRACK_LIST)
  }
}
