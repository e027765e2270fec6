import {Args, Flags} from '@oclif/core'
import {NodedocCommand} from '../src/cli/base-command.js'
import {escapeControl} from '../src/output/escape.js'
import {gatherFs} from '../src/inside/fs.js'
import {FILE_CONTENT_LIST, FILE_LIST, fileContentView, filesTable} from '../src/inside/render.js'
import {chooseContainer, lookupPod} from '../src/inside/target.js'

export default class Fs extends NodedocCommand {
  static summary = "A container's files as the container sees them, read from the node: list, --cat, --find, --du"
  static description = 'Reads through /proc/<pid>/root of the container\'s process (its own mounts: volumes, secrets, the overlay root), every path and link resolved inside the container, never on the node. Needs nothing in the image: no shell, no ls. Read-only. A link is listed as a link (as ls -l does); end PATH with / to list where it leads. Secrets and service-account tokens are shown only with --show-secrets.'
  static examples = [
    '<%= config.bin %> fs my-pod /etc',
    '<%= config.bin %> fs my-pod -c app /etc/resolv.conf --cat',
    "<%= config.bin %> fs my-pod / --find '*.log'",
    '<%= config.bin %> fs my-pod /var --du',
    '<%= config.bin %> fs my-pod /var/run/secrets/kubernetes.io/serviceaccount/token --cat --show-secrets',
  ]
  static args = {
    pod: Args.string({description: 'pod name', required: true}),
    path: Args.string({description: 'path in the container', default: '/'}),
  }
  static flags = {
    namespace: Flags.string({char: 'n', description: 'pod namespace (default: any namespace, if the name is unique)'}),
    container: Flags.string({char: 'c', description: 'container name (default: the only one, else the first)'}),
    cat: Flags.boolean({description: 'print the file', exclusive: ['find', 'du']}),
    find: Flags.string({description: 'entries below PATH whose name (or, with a /, whole path) matches this glob', exclusive: ['cat', 'du']}),
    du: Flags.boolean({description: 'size of each entry of PATH, everything below it counted (apparent sizes)', exclusive: ['cat', 'find']}),
    'show-secrets': Flags.boolean({description: 'print the contents of secrets and service-account tokens too'}),
    'max-bytes': Flags.integer({description: '--cat reads at most this many bytes', default: 1024 * 1024, min: 1, max: 256 * 1024 * 1024}),
    limit: Flags.integer({description: 'entries listed, searched or counted at most', default: 100_000, min: 1}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Fs)
    const host = await this.openHost(flags)
    const target = chooseContainer(await lookupPod(host, {name: args.pod, namespace: flags.namespace}), flags.container)
    if (target.defaulted) this.printAside(escapeControl(`reading container ${target.container.name}, the first of: ${target.pod.containers.map((c) => c.name).join(', ')} (-c to choose)`) + '\n')
    const result = await gatherFs(host, target, {
      path: args.path, cat: flags.cat, find: flags.find, du: flags.du, showSecrets: flags['show-secrets'], maxBytes: flags['max-bytes'], limit: flags.limit,
    })
    if (result.kind === 'FileList') return this.print(result.items, flags, filesTable, FILE_LIST)
    // a file's content is not a table: never cut to 80 columns, byte for byte into a pipe
    const output = flags.output ?? 'table'
    if (output === 'table' || output === 'wide') return this.printText(fileContentView(process.stdout.isTTY === true)(result.items))
    await this.print(result.items, flags, fileContentView(false), FILE_CONTENT_LIST)
  }
}
