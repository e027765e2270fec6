import {Flags} from '@oclif/core'
import {NodedocCommand} from '../src/cli/base-command.js'
import {enrichProcesses} from '../src/cri/enrich.js'
import {runtimeEndpointFlag} from '../src/cri/flag.js'
import {criViewFor} from '../src/cri/gather.js'
import {gatherProcesses} from '../src/pods/processes.js'
import {filterProcesses} from '../src/pods/process-filter.js'
import {PROCESS_LIST, psTable} from '../src/pods/render.js'

export default class Ps extends NodedocCommand {
  static summary = 'Processes with the pod and container each belongs to'
  static description = 'Default scope: the processes of every pod on the node. -A (or -e, as procps) means every process on the node, in a pod or not, as procps\'s ps -A does; --unowned shows only those in no pod. (In svc, -A means every namespace, as in kubectl.)'
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
    all: Flags.boolean({char: 'A', charAliases: ['e'], description: 'every process on the node, in a pod or not (procps\'s -A/-e)'}),
    zombies: Flags.boolean({description: 'only zombie processes'}),
    unowned: Flags.boolean({description: 'only processes in no pod'}),
    'runtime-endpoint': runtimeEndpointFlag,
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Ps)
    const host = await this.openHost(flags)
    const cri = await criViewFor(flags, host, {statuses: false})
    // without -A, --zombies or --unowned only pod processes show: the others' status and cmdline go unread
    const all = await gatherProcesses(host, {podsOnly: !flags.all && !flags.zombies && !flags.unowned})
    const procs = filterProcesses(cri ? enrichProcesses(all, cri) : all, flags)
    await this.print(procs, flags, psTable, PROCESS_LIST)
  }
}
