import {Flags} from '@oclif/core'
import {NodedocCommand} from '../src/cli/base-command.js'
import {runtimeEndpointFlag} from '../src/cri/flag.js'
import {answerPs} from '../src/cli/ps.js'

// `ps` usually starts without oclif (src/cli/direct-ps.ts); these flags are what it mirrors
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
    await answerPs(flags, (chosen) => this.openHost(chosen))
  }
}
