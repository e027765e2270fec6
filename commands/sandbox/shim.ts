import {Args, Command} from '@oclif/core'
import {runShim} from '../../src/write/sandbox-shim.js'

/** The per-container log shim, for builds where its script is not a file of its own. */
export default class SandboxShim extends Command {
  static hidden = true
  static summary = 'internal: the log shim of one sandbox container'
  static args = {config: Args.string({required: true})}

  async run(): Promise<void> {
    const {args} = await this.parse(SandboxShim)
    runShim(args.config)
    await new Promise(() => undefined)
  }
}
