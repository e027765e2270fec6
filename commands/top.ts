import {Args, Flags} from '@oclif/core'
import {NodedocCommand} from '../src/cli/base-command.js'
import {NodedocError} from '../src/errors.js'
import {provenanceOf} from '../src/host/provenance.js'
import {withInterrupt} from '../src/interrupt.js'
import {parseGoDuration} from '../src/logs/duration.js'
import {USAGE_DOCUMENT, type UsageDocument, usageTable} from '../src/usage/render.js'
import {UsageSampler} from '../src/usage/sample.js'
import {SORT_KEYS, type SortKey, selectPods} from '../src/usage/select.js'
import {watchUsage} from '../src/usage/watch.js'

export default class Top extends NodedocCommand {
  static summary = "CPU, memory, throttling, pids and OOM kills per pod, from the cgroups' own counters"
  static description = 'CPU is the rise of cpuacct.usage (v1) or cpu.stat usage_usec (v2) over the interval; memory is the working set the kubelet computes (usage minus inactive file pages). Without -w: two samples an interval apart, one table. -o json prints one PodUsage document per sample, each on one line (JSON lines). Exit codes: 0 ok, 2 usage error, 3 the node could not be read.'
  static examples = [
    '<%= config.bin %> top',
    '<%= config.bin %> top containers -n kube-system --sort-by memory',
    '<%= config.bin %> top -w --interval 5s',
    '<%= config.bin %> top -o json -w | jq -c \'.items[] | [.name, .cpu.cores]\'   # one JSON document per sample',
    '<%= config.bin %> top --from snapshot.tar.gz   # rates from the two samples a snapshot records',
  ]
  static args = {view: Args.string({description: 'one row per pod, or per container', options: ['pods', 'containers'], default: 'pods'})}
  static flags = {
    namespace: Flags.string({char: 'n', description: 'only pods in this namespace'}),
    'sort-by': Flags.string({description: `highest first: ${SORT_KEYS.join(', ')}; or a JSONPath into each pod record, as kubectl's --sort-by (e.g. .memory.rssBytes)`}),
    watch: Flags.boolean({char: 'w', description: 'a new sample every interval: in place on a terminal, one block each when piped', default: false}),
    interval: Flags.string({description: 'time between samples (a Go duration)', default: '2s'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Top)
    const intervalMs = parseGoDuration(flags.interval)
    if (intervalMs === undefined || intervalMs <= 0) throw new NodedocError(`--interval: "${flags.interval}" is not a duration above zero (e.g. 2s, 500ms)`, 2)
    if (flags.watch && flags.from) throw new NodedocError('-w watches a live node; a snapshot holds two samples, shown without -w', 2)
    const sortKey = SORT_KEYS.find((k) => k === flags['sort-by']) as SortKey | undefined
    if (flags['sort-by'] !== undefined && !sortKey && !/^[.{]/.test(flags['sort-by'])) throw new NodedocError(`--sort-by: "${flags['sort-by']}" is none of ${SORT_KEYS.join(', ')}, nor a JSONPath (.memory.rssBytes)`, 2)
    const host = await this.openHost(flags)
    // a snapshot's one sample read from its files was taken when the snapshot was
    const snapshotTime = flags.from ? (await provenanceOf(host)).capturedAt : undefined
    const view = args.view as 'pods' | 'containers'
    const print = await this.streamPrinter<UsageDocument>({...flags, 'sort-by': sortKey ? undefined : flags['sort-by']}, (d, wide) => usageTable(d, wide, view, sortKey), USAGE_DOCUMENT)
    const redraw = flags.watch && process.stdout.isTTY && (flags.output === 'table' || flags.output === 'wide')
    const headed = flags.watch && (flags.output === 'table' || flags.output === 'wide')
    let printed = false
    const interrupt = await withInterrupt(async (interrupt) => {
      await watchUsage(host, new UsageSampler(host), {intervalMs, watch: flags.watch, signal: interrupt.signal}, (report) => {
        if (printed && !redraw && headed) this.printText('\n')
        printed = true
        if (redraw) this.printText('\x1b[H\x1b[2J')
        if (headed) this.printText(`# ${report.time}, every ${flags.interval}${redraw ? ' (Ctrl-C to quit)' : ''}\n`)
        const {time, ...document} = selectPods(report, flags.namespace, sortKey)
        print(document, report.intervalSeconds === null && snapshotTime ? snapshotTime : time)
      })
      return interrupt
    })
    // Ctrl-C ends a watch as it should (0); before anything was shown it is an interruption
    if (interrupt.cause && !printed) process.exitCode = interrupt.exitCode
  }
}
