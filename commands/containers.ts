import {Flags} from '@oclif/core'
import {NodedocCommand} from '../src/cli/base-command.js'
import {runtimeEndpointFlag} from '../src/cri/flag.js'
import {criViewFor} from '../src/cri/gather.js'
import {containerListing} from '../src/cri/listings.js'
import {CONTAINER_LIST, containersTable} from '../src/cri/render.js'

export default class Containers extends NodedocCommand {
  static summary = 'Every container on this node, exited ones included, as crictl ps -a shows them'
  static description = 'Default scope: every container of every pod on this node. Where the CRI socket answers, the runtime\'s list (image, created, state, attempt, exit code and reason), each running one checked against its process; without it, the running containers the host shows.'
  static examples = ['<%= config.bin %> containers', '<%= config.bin %> containers -n kube-system --state exited', '<%= config.bin %> containers --pod core-k8s -o wide']
  static flags = {
    namespace: Flags.string({char: 'n', description: 'only containers of pods in this namespace'}),
    pod: Flags.string({description: 'only containers of this pod'}),
    state: Flags.string({description: 'only containers in this state', options: ['created', 'running', 'exited', 'unknown']}),
    'runtime-endpoint': runtimeEndpointFlag,
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Containers)
    const host = await this.openHost(flags)
    const cri = await criViewFor(flags, host)
    const rows = await containerListing(host, cri, {namespace: flags.namespace, pod: flags.pod, state: flags.state})
    await this.print(rows, flags, containersTable, CONTAINER_LIST)
  }
}
