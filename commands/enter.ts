import {Args, Flags} from '@oclif/core'
import {NodedocCommand} from '../src/cli/base-command.js'
import {NodedocError} from '../src/errors.js'
import {type EnterNamespace, enterNotes, planEnter, runEnter} from '../src/inside/enter.js'
import {ENTERED_LIST, enterTable} from '../src/inside/render.js'
import {chooseContainer, lookupPod} from '../src/inside/target.js'
import {escapeControl} from '../src/output/escape.js'
import {parseOutputFormat, renderOutput} from '../src/output/output.js'
import {provenanceOf} from '../src/host/provenance.js'

export default class Enter extends NodedocCommand {
  static summary = "Run one of the node's programs inside a pod's namespaces (by default only its network): tcpdump, dig, ss, curl"
  static description = "nsenter into the namespaces of the pod's process, then the program after --, with your terminal. By default only --net: the program, its libraries and files stay the node's, only the network is the pod's, so it works on distroless images and wedged runtimes. It says on stderr which namespaces it entered (-o json: as JSON); stdout is the program's, and so is the exit code. nodedoc itself writes nothing."
  static examples = [
    '<%= config.bin %> enter my-pod -- ip -j addr',
    '<%= config.bin %> enter my-pod -- tcpdump -ni eth0 port 53',
    '<%= config.bin %> enter my-pod -c app --net --pid -- ss -tlnp',
    '<%= config.bin %> enter my-pod --uts -- hostname',
  ]
  static strict = false
  static args = {pod: Args.string({description: 'pod name', required: true})}
  static flags = {
    namespace: Flags.string({char: 'n', description: 'pod namespace (default: any namespace, if the name is unique)'}),
    container: Flags.string({char: 'c', description: "whose namespaces (default: the pod's sandbox for --net alone, else the first container)"}),
    net: Flags.boolean({description: 'the network namespace (the default when no namespace is named)'}),
    mnt: Flags.boolean({description: "the mount namespace: the program is then the container's, run as root with the node's capabilities"}),
    pid: Flags.boolean({description: 'the PID namespace'}),
    uts: Flags.boolean({description: 'the UTS namespace (hostname)'}),
    ipc: Flags.boolean({description: 'the IPC namespace'}),
  }

  async run(): Promise<void> {
    // everything after the first `--` is the program, untouched by flag parsing
    const dashes = this.argv.indexOf('--')
    const argv = dashes >= 0 ? this.argv.slice(dashes + 1) : []
    const {args, flags} = await this.parse(Enter, dashes >= 0 ? this.argv.slice(0, dashes) : this.argv)
    if (argv.length === 0) throw new NodedocError('give a program after --, e.g. nodedoc enter POD -- ip addr', 2)
    const chosen = (['net', 'mnt', 'pid', 'uts', 'ipc'] as EnterNamespace[]).filter((n) => flags[n])
    const host = await this.openHost(flags)
    const pod = await lookupPod(host, {name: args.pod, namespace: flags.namespace})
    const plan = planEnter(chooseContainer(pod, flags.container), chosen.length ? chosen : ['net'], flags.container !== undefined, argv)
    for (const note of enterNotes(pod, plan)) this.printAside(`note: ${escapeControl(note)}\n`)
    // stdout belongs to the program: what was entered goes to stderr, in the format asked for
    const format = parseOutputFormat(flags.output)
    const provenance = format.kind === 'json' || format.kind === 'yaml' ? await provenanceOf(host) : {node: null, capturedAt: ''}
    process.stderr.write(renderOutput([plan], format, enterTable, ENTERED_LIST, provenance))
    process.exitCode = await runEnter(host, plan)
  }
}
