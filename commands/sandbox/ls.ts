import {NodedocCommand} from '../../src/cli/base-command.js'
import {SANDBOX_LIST, sandboxListTable} from '../../src/sandbox/render.js'
import {listSandboxes} from '../../src/sandbox/service.js'

export default class SandboxLs extends NodedocCommand {
  static summary = 'List the sandboxes this node holds (from /run/nodedoc/sandboxes)'
  static examples = ['<%= config.bin %> sandbox ls', '<%= config.bin %> sandbox ls -o json']

  async run(): Promise<void> {
    const {flags} = await this.parse(SandboxLs)
    await this.print(await listSandboxes(), flags, sandboxListTable, SANDBOX_LIST)
  }
}
