import {Args, Flags} from '@oclif/core'
import {NodedocCommand} from '../src/cli/base-command.js'
import {runtimeEndpointFlag} from '../src/cri/flag.js'
import {answerPod} from '../src/cli/pod.js'

// `pod NAME` usually starts without oclif (src/cli/direct.ts); these flags are what it mirrors
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
    await answerPod(args, flags, (chosen) => this.openHost(chosen))
  }
}
