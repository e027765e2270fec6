import {Args, Flags} from '@oclif/core'
import {NodedocCommand} from '../src/cli/base-command.js'
import {NodedocError} from '../src/errors.js'
import {enrichPods} from '../src/cri/enrich.js'
import {runtimeEndpointFlag} from '../src/cri/flag.js'
import {criViewFor} from '../src/cri/gather.js'
import {findPod} from '../src/pods/pods.js'
import {POD_DOCUMENT, podNotFound, podTable} from '../src/pods/render.js'

export default class Pod extends NodedocCommand {
  static summary = 'Everything this node knows about one pod: PIDs, namespaces, mounts, cgroups, network, logs'
  static examples = [
    '<%= config.bin %> pod core-k8s',
    '<%= config.bin %> pod kube-dns -n kube-system -o json',
    '<%= config.bin %> pod --uid 6f0f2a8e-3c1b-4a57-9d5e-0e7d6c2b1a90',
    '<%= config.bin %> pod core-k8s --from examples/containerd-node',
    '<%= config.bin %> pod core-k8s --host-root /host   # inside kubectl debug node/...',
  ]
  static args = {name: Args.string({description: 'pod name', required: false})}
  static flags = {
    namespace: Flags.string({char: 'n', description: 'pod namespace (default: any namespace, if the name is unique)'}),
    uid: Flags.string({description: 'pod UID instead of a name'}),
    'runtime-endpoint': runtimeEndpointFlag,
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Pod)
    if (!args.name && !flags.uid) throw new NodedocError('name a pod, or give --uid')
    const host = await this.openHost(flags)
    const lookup = await findPod(host, {name: args.name, namespace: flags.namespace, uid: flags.uid})
    if (lookup.kind !== 'found') throw new NodedocError(...podNotFound(lookup, args.name ?? flags.uid!, flags.namespace))
    const cri = await criViewFor(flags, host, {podUid: lookup.report.uid})
    await this.print(cri ? enrichPods([lookup.report], cri)[0] : lookup.report, flags, podTable, POD_DOCUMENT)
  }
}
