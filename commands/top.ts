import {Args, Flags} from '@oclif/core'
import {NodedocCommand} from '../src/cli/base-command.js'
import {NodedocError} from '../src/cli/errors.js'
import {SnapshotError} from '../src/host/snapshot.js'
import {parseGoDuration} from '../src/logs/duration.js'
import {type OutputFormat, renderStreamItem} from '../src/render/output.js'
import {usageTable} from '../src/usage/render.js'
import {NodeUnreadableError, UsageSampler} from '../src/usage/sample.js'
import {SORT_KEYS, type SortKey, selectPods} from '../src/usage/select.js'
import {watchUsage} from '../src/usage/watch.js'

export default class Top extends NodedocCommand {
  static summary = "CPU, memory, throttling, pids and OOM kills per pod, from the cgroups' own counters"
  static description = 'CPU is the rise of cpuacct.usage (v1) or cpu.stat usage_usec (v2) over the interval; memory is the working set the kubelet computes (usage minus inactive file pages). Without -w: two samples an interval apart, one table. Exit codes: 0 ok, 2 usage error, 3 the node could not be read.'
  static examples = [
    '<%= config.bin %> top',
    '<%= config.bin %> top containers -n kube-system --sort-by memory',
    '<%= config.bin %> top -w --interval 5s',
    '<%= config.bin %> top -o json -w | jq .pods[0].cpu   # one JSON object per sample',
    '<%= config.bin %> top --from snapshot.tar.gz   # rates from the two samples a snapshot records',
  ]
  static args = {view: Args.string({description: 'one row per pod, or per container', options: ['pods', 'containers'], default: 'pods'})}
  static flags = {
    namespace: Flags.string({char: 'n', description: 'only pods in this namespace'}),
    'sort-by': Flags.string({description: 'highest first', options: [...SORT_KEYS]}),
    watch: Flags.boolean({char: 'w', description: 'a new sample every interval: in place on a terminal, one block each when piped', default: false}),
    interval: Flags.string({description: 'time between samples (a Go duration)', default: '2s'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Top)
    const intervalMs = parseGoDuration(flags.interval)
    if (intervalMs === undefined || intervalMs <= 0) throw new NodedocError(`--interval: "${flags.interval}" is not a duration above zero (e.g. 2s, 500ms)`, 2)
    if (flags.watch && flags.from) throw new NodedocError('-w watches a live node; a snapshot holds two samples, shown without -w', 2)
    const host = await this.openHost(flags).catch((error) => {
      throw error instanceof SnapshotError ? new NodedocError(error.message, 3) : error
    })
    const stop = new AbortController()
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort())
    process.stdout.on('error', () => stop.abort()) // a closed pipe (| head) ends a watch quietly
    const format = flags.output as OutputFormat
    const redraw = flags.watch && process.stdout.isTTY && (format === 'table' || format === 'wide')
    const view = args.view as 'pods' | 'containers'
    const sort = flags['sort-by'] as SortKey | undefined
    let printed = false
    try {
      await watchUsage(host, new UsageSampler(host), {intervalMs, watch: flags.watch, signal: stop.signal}, (report) => {
        printed = true
        const text = renderStreamItem(selectPods(report, flags.namespace, sort), format, (r, wide) => usageTable(r, wide, view, sort))
        const header = flags.watch && !['json', 'yaml'].includes(format) ? `# ${report.time}, every ${flags.interval}${redraw ? ' (Ctrl-C to quit)' : ''}\n` : ''
        process.stdout.write((redraw ? '\x1b[H\x1b[2J' : '') + header + text + (flags.watch && !redraw && header ? '\n' : ''))
      })
    } catch (error) {
      if (error instanceof NodeUnreadableError) throw new NodedocError(error.message, 3)
      throw error
    }
    // Ctrl-C ends a watch as it should (0); before anything was shown it is an interruption
    if (stop.signal.aborted && !printed) process.exitCode = 130
  }
}
