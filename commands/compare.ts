import {Args, Flags} from '@oclif/core'
import {NodedocCommand} from '../src/cli/base-command.js'
import {comparePod} from '../src/compare/compare.js'
import {COMPARISON, compareTable} from '../src/compare/render.js'

export default class Compare extends NodedocCommand {
  static summary = 'Where a pod differs from what its spec implies on this node, or from a reference sandbox: spec, runtime config and kernel side by side'
  static description = 'The spec column is what the kubelet and the runtime make of the manifest on this node (docs/compare.md lists every row and where its value comes from). A row differs when the kernel disagrees with it, or with what the runtime\'s own config asked for.'
  static examples = [
    '<%= config.bin %> compare core-k8s --spec pod.yaml',
    '<%= config.bin %> compare core-k8s -n default --with core-k8s-ref',
    '<%= config.bin %> compare core-k8s --spec pod.yaml -o wide   # every row, mounts too',
    '<%= config.bin %> compare core-k8s --with core-k8s-ref --from snap.tar.gz   # the sandbox as the snapshot recorded it',
  ]
  static args = {pod: Args.string({description: 'pod name', required: true})}
  static flags = {
    namespace: Flags.string({char: 'n', description: 'pod namespace'}),
    with: Flags.string({description: 'a `nodedoc sandbox` to compare against (its spec, and its kernel state as the reference)'}),
    spec: Flags.string({description: 'a Pod manifest whose implications to compare against'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Compare)
    const host = await this.openHost(flags)
    const result = await comparePod(host, {pod: args.pod, namespace: flags.namespace, withSandbox: flags.with, specPath: flags.spec})
    await this.print(result, flags, compareTable, COMPARISON)
    // like doctor's FAIL: answered, and something is wrong
    if (result.differences > 0) process.exitCode = 1
  }
}
