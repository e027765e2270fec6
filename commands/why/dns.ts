import {Args, Flags} from '@oclif/core'
import {NodedocCommand} from '../../src/cli/base-command.js'
import {NodedocError} from '../../src/errors.js'
import {findPod} from '../../src/pods/pods.js'
import {podNotFound} from '../../src/pods/render.js'
import {whyDns} from '../../src/why/dns.js'
import {WHY_DOCUMENT, exitCodeOf, renderWhy} from '../../src/why/render.js'
import {proberFor} from '../../src/why/probe-wiring.js'

export default class WhyDns extends NodedocCommand {
  static summary = "Why DNS lookups from a pod fail: its resolv.conf, the nameserver's Service, endpoints, routes, the DNS pod, the node"
  static description = 'Walks the chain a lookup depends on and names the first broken link, with what it read and the fix. Exit 0: the chain holds; 1: a link is broken; 2: usage or internal error.'
  static examples = [
    '<%= config.bin %> why dns client -n default',
    '<%= config.bin %> why dns client -n default -o json',
    '<%= config.bin %> why dns client --from node-snapshot.tar.gz',
  ]
  static args = {pod: Args.string({description: 'the pod whose lookups fail', required: true})}
  static flags = {
    namespace: Flags.string({char: 'n', description: 'pod namespace (default: any namespace, if the name is unique)'}),
    probe: Flags.boolean({description: 'WRITES TO THE NODE: end with a real DNS query from inside the pod\'s network namespace, as svc --probe sends it; its journal and conntrack entry are removed again (docs/probe.md)'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(WhyDns)
    const host = await this.openHost(flags)
    const lookup = await findPod(host, {name: args.pod, namespace: flags.namespace})
    if (lookup.kind !== 'found') {
      const [message, , detail] = podNotFound(lookup, args.pod, flags.namespace)
      throw new NodedocError(message, 2, detail)
    }
    const report = await whyDns(host, lookup.report, {prober: flags.probe ? proberFor(host) : undefined})
    await this.print(report, flags, renderWhy, WHY_DOCUMENT)
    process.exitCode = exitCodeOf(report)
  }
}
