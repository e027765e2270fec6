import {Args, Command} from '@oclif/core'
import {runShim} from '../../src/write/sandbox-shim.js'

/** The per-container log writer, for builds where its script is not a file of its own. */
export default class SandboxShim extends Command {
  static hidden = true
  static summary = 'internal: the log writer of one sandbox container'
  static args = {config: Args.string({required: true})}

  async run(): Promise<void> {
    await this.parse(SandboxShim)
    runShim()
    await new Promise(() => undefined)
  }
}
