import {Args, Flags} from '@oclif/core'
import {NodedocCommand} from '../../src/cli/base-command.js'
import {NodedocError} from '../../src/errors.js'
import {findPod} from '../../src/pods/pods.js'
import {podNotFound} from '../../src/pods/render.js'
import {whyPod} from '../../src/why/pod.js'
import {WHY_DOCUMENT, exitCodeOf, renderWhy} from '../../src/why/render.js'

export default class WhyPod extends NodedocCommand {
  static summary = 'Why a pod is not running or keeps restarting: sandbox, volumes, rootfs, OOM kills, pids, exits and last log lines'
  static description = 'Exit 0: nothing is broken; 1: a link is broken; 2: usage or internal error.'
  static examples = [
    '<%= config.bin %> why pod coredns-5d78c9869d-abcde -n kube-system',
    '<%= config.bin %> why pod web -o json',
    '<%= config.bin %> why pod --uid 6f0f2a8e-3c1b-4a57-9d5e-0e7d6c2b1a90 --from node.tar.gz',
  ]
  static args = {pod: Args.string({description: 'pod name', required: false})}
  static flags = {
    namespace: Flags.string({char: 'n', description: 'pod namespace (default: any namespace, if the name is unique)'}),
    uid: Flags.string({description: 'pod UID instead of a name'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(WhyPod)
    if (!args.pod && !flags.uid) throw new NodedocError('name a pod, or give --uid', 2)
    const host = await this.openHost(flags)
    const lookup = await findPod(host, {name: args.pod, namespace: flags.namespace, uid: flags.uid})
    if (lookup.kind !== 'found') {
      const [message, , detail] = podNotFound(lookup, args.pod ?? flags.uid!, flags.namespace)
      throw new NodedocError(message, 2, detail)
    }
    const report = await whyPod(host, lookup.report)
    await this.print(report, flags, renderWhy, WHY_DOCUMENT)
    process.exitCode = exitCodeOf(report)
  }
}
