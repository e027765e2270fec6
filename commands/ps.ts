import {Flags} from '@oclif/core'
import {NodedocCommand} from '../src/cli/base-command.js'
import {enrichProcesses} from '../src/cri/enrich.js'
import {runtimeEndpointFlag} from '../src/cri/flag.js'
import {criViewFor} from '../src/cri/gather.js'
import {gatherProcesses} from '../src/pods/processes.js'
import {filterProcesses} from '../src/pods/process-filter.js'
import {psTable} from '../src/pods/render.js'

export default class Ps extends NodedocCommand {
  static summary = 'Processes with the pod and container each belongs to'
  static description = 'Without flags: the processes of every pod. -A adds the processes in no pod; --unowned shows only those.'
  static examples = [
    '<%= config.bin %> ps',
    '<%= config.bin %> ps --pod core-k8s -n default',
    '<%= config.bin %> ps -A -o wide',
    '<%= config.bin %> ps --zombies',
    '<%= config.bin %> ps --unowned -o json',
  ]
  static flags = {
    pod: Flags.string({description: 'only this pod'}),
    namespace: Flags.string({char: 'n', description: 'only pods in this namespace'}),
    all: Flags.boolean({char: 'A', description: 'every process on the node, in a pod or not'}),
    zombies: Flags.boolean({description: 'only zombie processes'}),
    unowned: Flags.boolean({description: 'only processes in no pod'}),
    'runtime-endpoint': runtimeEndpointFlag,
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Ps)
    const host = await this.openHost(flags)
    const cri = await criViewFor(flags, host, {statuses: false})
    const all = await gatherProcesses(host)
    const procs = filterProcesses(cri ? enrichProcesses(all, cri) : all, flags)
    this.print(procs, flags.output, psTable)
  }
}
