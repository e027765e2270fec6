import {resolve} from 'node:path'
import {Args, Flags} from '@oclif/core'
import {NodedocBase} from '../src/cli/base-command.js'
import {NodedocError} from '../src/errors.js'
import {openHost} from '../src/host/open.js'
import {mergeReports} from '../src/report/merge.js'
import {readNodeReports} from '../src/report/read.js'
import {OUTPUT_FORMATS} from '../src/output/output.js'
import {CLUSTER_REPORT, reportTable} from '../src/report/render.js'

export default class Report extends NodedocBase {
  static summary = 'Merge the JSON many nodes produced (doctor, svc -A, pod, ps) into one cluster table'
  static description = 'Give it files or folders of `nodedoc ... -o json` output, one per node (e.g. collected from the DaemonSet in deploy/). The node is the name inside the JSON, else the file name (node-a.json, node-a/doctor.json). Lists which nodes FAIL or WARN which checks, and which nodes cannot reach which service endpoints. Files of any other shape are skipped with a warning.'
  static examples = [
    '<%= config.bin %> report reports/',
    '<%= config.bin %> report node-a.json node-b.json -o wide',
    'for n in $(kubectl get nodes -o name); do kubectl logs -n nodedoc job/nodedoc-${n#node/} > reports/${n#node/}.json; done; <%= config.bin %> report reports/',
  ]
  static strict = false
  static args = {paths: Args.string({description: 'JSON files, or folders of them', required: true})}
  // reads files named on the command line, never a node: no --from or --host-root
  static flags = {output: Flags.string({char: 'o', description: 'output format', options: [...OUTPUT_FORMATS], default: 'table'})}

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Report)
    const host = await openHost({hostRoot: '/'})
    const read = await readNodeReports(host, (argv as string[]).map((p) => resolve(p)))
    for (const line of read.skipped) host.warnings.add(`skip:${line}`, line)
    this.host = host
    if (read.inputs.length === 0) throw new NodedocError('no nodedoc JSON among the files given (each file skipped is named in a warning)')
    await this.print(mergeReports(read.inputs), flags, reportTable, CLUSTER_REPORT)
  }
}
