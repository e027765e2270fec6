import {Args, Flags} from '@oclif/core'
import {NodedocCommand} from '../../src/cli/base-command.js'
import {NodedocError} from '../../src/errors.js'
import {escapeControl} from '../../src/output/escape.js'
import {listSandboxes, removeSandbox, removeSharedRoots} from '../../src/sandbox/service.js'

export default class SandboxRm extends NodedocCommand {
  static summary = 'Remove sandboxes, whole or half-made: processes, cgroups, veth, mounts, logs, state (idempotent)'
  static examples = ['<%= config.bin %> sandbox rm core-k8s', '<%= config.bin %> sandbox rm --all']
  static strict = false
  static args = {name: Args.string({description: 'sandbox name(s)', required: false})}
  static flags = {all: Flags.boolean({description: 'remove every sandbox'})}

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(SandboxRm)
    const names = flags.all ? (await listSandboxes()).map((s) => s.name) : (argv as string[])
    if (!flags.all && names.length === 0) throw new NodedocError('name a sandbox, or give --all')
    const failed: string[] = []
    for (const name of names) {
      const {removed, problems} = await removeSandbox(name)
      if (problems.length) {
        failed.push(name)
        this.warnNow(`${name}: ${problems.join('; ')}`)
      }
      this.printText(escapeControl(removed ? `${name}: removed` : `${name}: not found (nothing to remove)`) + '\n')
    }
    // --all with nothing listed still tidies the shared folders an older run may have left
    if (flags.all) await removeSharedRoots()
    if (failed.length) throw new NodedocError(`could not remove everything of: ${failed.join(', ')}`)
  }
}
