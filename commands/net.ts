import {NodedocCommand} from '../src/cli/base-command.js'
import {gatherNetFacts} from '../src/net/gather.js'
import {buildNetMap} from '../src/net/net-map.js'
import {NET_DOCUMENT, renderNet} from '../src/net/render.js'

export default class Net extends NodedocCommand {
  static summary = "The node's routes, veths and bridges, each tied to the pod on the other end"
  static description = 'Reads `ip -j route`, `ip -j -d link`, /etc/cni/net.d and the pods on this node; lists the default route, the CNI config in use, pod IPs with no route and routes to IPs no pod holds.'
  static examples = ['<%= config.bin %> net', '<%= config.bin %> net -o wide', '<%= config.bin %> net -o json']

  async run(): Promise<void> {
    const {flags} = await this.parse(Net)
    const host = await this.openHost(flags)
    const report = buildNetMap(await gatherNetFacts(host))
    await this.print(report, flags, renderNet, NET_DOCUMENT)
  }
}
