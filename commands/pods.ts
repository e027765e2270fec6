import {Flags} from '@oclif/core'
import {NodedocCommand} from '../src/cli/base-command.js'
import {runtimeEndpointFlag} from '../src/cri/flag.js'
import {criViewFor} from '../src/cri/gather.js'
import {podListing} from '../src/cri/listings.js'
import {POD_LIST, podsTable} from '../src/cri/render.js'

export default class Pods extends NodedocCommand {
  static summary = 'Every pod on this node, one line each, as kubectl get pods -o wide and crictl pods show them'
  static description = 'Default scope: every namespace on this node (-n for one). READY is running/total containers, RESTARTS from the log folders, AGE from the sandbox process start; -l filters on the labels the runtime holds (needs the CRI socket, or a snapshot that recorded it), --field-selector on status.'
  static examples = [
    '<%= config.bin %> pods',
    '<%= config.bin %> pods -n kube-system -o wide',
    '<%= config.bin %> pods -l k8s-app=kube-dns',
    '<%= config.bin %> pods --field-selector status!=Running',
    '<%= config.bin %> pods -o jsonpath=\'{range .items[*]}{.name}{"\\t"}{.ip}{"\\n"}{end}\'',
  ]
  static flags = {
    namespace: Flags.string({char: 'n', description: 'only pods in this namespace'}),
    'all-namespaces': Flags.boolean({char: 'A', description: 'every namespace (the default; for kubectl habits)'}),
    selector: Flags.string({char: 'l', description: 'label selector: key=value, key!=value, key, !key; comma-joined'}),
    'field-selector': Flags.string({description: 'status=VALUE or status!=VALUE (Running, NotReady, Terminated, Error, OOMKilled, ...)'}),
    'runtime-endpoint': runtimeEndpointFlag,
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Pods)
    const host = await this.openHost(flags)
    const cri = await criViewFor(flags, host)
    const rows = await podListing(host, cri, {namespace: flags.namespace, selector: flags.selector, fieldSelector: flags['field-selector']})
    await this.print(rows, flags, podsTable, POD_LIST)
  }
}
