import {Flags} from '@oclif/core'
import {NodedocBase, hostRootFlag} from '../src/cli/base-command.js'
import {LiveHost} from '../src/host/live.js'
import {withProgress} from '../src/output/progress.js'
import {captureSnapshot} from '../src/snapshot/capture.js'

export default class Snapshot extends NodedocBase {
  static summary = 'Capture the host truth nodedoc reads into a folder or .tar.gz, for --from'
  static description = 'The snapshot holds the /proc, cgroup, mountinfo and log files and the program outputs that nodedoc reads, plus meta.json. Layout: docs/snapshot.md.'
  static examples = ['<%= config.bin %> snapshot -o node1.tar.gz', '<%= config.bin %> snapshot -o ./node1', '<%= config.bin %> pod core-k8s --from node1.tar.gz']
  // -o names the snapshot here, not an output format
  static flags = {
    'host-root': hostRootFlag,
    output: Flags.string({char: 'o', description: 'snapshot folder (must not exist) or FILE.tar.gz', required: true}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Snapshot)
    const live = new LiveHost(flags['host-root'])
    this.host = live
    const capture = () => captureSnapshot(live, flags.output, this.config.version, flags['host-root'])
    const {path, failed} = await withProgress(`capturing snapshot ${flags.output}`, capture)
    for (const f of failed) this.warnNow(`not captured: ${f}`)
    this.printText(`snapshot written to ${path}\n`)
  }
}
