import {Args, Flags} from '@oclif/core'
import {NodedocCommand} from '../../src/cli/base-command.js'
import {NodedocError} from '../../src/errors.js'
import {execInSandbox} from '../../src/sandbox/service.js'

export default class SandboxExec extends NodedocCommand {
  static summary = 'Run a command in a sandbox container: its namespaces, root, cgroups and capabilities'
  static examples = ['<%= config.bin %> sandbox exec core-k8s -- ps', '<%= config.bin %> sandbox exec core-k8s -c app -- ip a']
  static strict = false
  static args = {name: Args.string({description: 'sandbox name', required: true})}
  static flags = {container: Flags.string({char: 'c', description: 'container name (default: the first)'})}

  async run(): Promise<void> {
    // everything after the first `--` is the command, untouched by flag parsing
    const dashes = this.argv.indexOf('--')
    const command = dashes >= 0 ? this.argv.slice(dashes + 1) : []
    const {args, flags} = await this.parse(SandboxExec, dashes >= 0 ? this.argv.slice(0, dashes) : this.argv)
    if (command.length === 0) throw new NodedocError('give a command after --, e.g. nodedoc sandbox exec NAME -- ps')
    process.exitCode = await execInSandbox(args.name, flags.container, command)
  }
}
