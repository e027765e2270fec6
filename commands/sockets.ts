import {Args, Flags} from '@oclif/core'
import {NodedocCommand} from '../src/cli/base-command.js'
import {SOCKET_LIST, socketsTable} from '../src/inside/render.js'
import {gatherSockets} from '../src/inside/sockets.js'

export default class Sockets extends NodedocCommand {
  static summary = "A pod's TCP, UDP and UNIX sockets, each with the process and container holding it (ss -tuxanp inside the pod)"
  static description = "Reads /proc/<pid>/net/{tcp,tcp6,udp,udp6,unix} of the pod's network namespace and ties each socket to a process through /proc/<pid>/fd. Without POD: every pod on this node. Nothing runs inside the pod."
  static examples = [
    '<%= config.bin %> sockets my-pod',
    '<%= config.bin %> sockets my-pod -n web --listening',
    '<%= config.bin %> sockets -l -o wide',
    '<%= config.bin %> sockets my-pod -o json',
  ]
  static args = {pod: Args.string({description: 'pod name (default: every pod)', required: false})}
  static flags = {
    namespace: Flags.string({char: 'n', description: 'pod namespace (default: any namespace, if the name is unique)'}),
    container: Flags.string({char: 'c', description: "only sockets this container's processes hold"}),
    listening: Flags.boolean({char: 'l', description: 'only listening sockets (TCP and UNIX LISTEN, unconnected UDP)'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Sockets)
    const host = await this.openHost(flags)
    const sockets = await gatherSockets(host, {pod: args.pod ? {name: args.pod, namespace: flags.namespace} : undefined, container: flags.container, listening: flags.listening})
    await this.print(sockets, flags, socketsTable, SOCKET_LIST)
  }
}
