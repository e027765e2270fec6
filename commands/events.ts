import {Args, Flags} from '@oclif/core'
import {NodedocCommand} from '../src/cli/base-command.js'
import {NodedocError} from '../src/cli/errors.js'
import {SnapshotError} from '../src/host/snapshot.js'
import {parseGoDuration} from '../src/logs/duration.js'
import {type OutputFormat, renderStreamItem} from '../src/render/output.js'
import {eventsSince} from '../src/usage/events.js'
import {eventsStream} from '../src/usage/render.js'
import {NodeUnreadableError, UsageSampler} from '../src/usage/sample.js'
import {selectEvents} from '../src/usage/select.js'
import type {UsageEvent} from '../src/usage/types.js'
import {watchEvents} from '../src/usage/watch.js'

export default class Events extends NodedocCommand {
  static summary = 'Kernel-level events per pod: OOM kills, restarts, CPU throttling, pids limit, exits'
  static description = 'Without -w: what the cgroup counters (counts since each cgroup was made), the kernel log and the log folders (one N.log per restart) show has happened. With -w: also what each interval adds. Exit codes: 0 ok, 2 usage error, 3 the node could not be read.'
  static examples = [
    '<%= config.bin %> events',
    '<%= config.bin %> events web-0 -n shop --since 10m',
    '<%= config.bin %> events -w -o json   # one JSON object per event',
  ]
  static args = {pod: Args.string({description: 'only this pod (name or UID)', required: false})}
  static flags = {
    namespace: Flags.string({char: 'n', description: 'only pods in this namespace'}),
    watch: Flags.boolean({char: 'w', description: 'keep watching, one interval at a time', default: false}),
    since: Flags.string({description: 'only events newer than this Go duration (events known only as counts are left out)'}),
    interval: Flags.string({description: 'with -w: time between looks (a Go duration)', default: '2s'}),
    'throttle-threshold': Flags.integer({description: 'CPUThrottling from this percentage of CFS periods throttled', default: 25, min: 1, max: 100}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Events)
    const intervalMs = parseGoDuration(flags.interval)
    if (intervalMs === undefined || intervalMs <= 0) throw new NodedocError(`--interval: "${flags.interval}" is not a duration above zero (e.g. 2s, 500ms)`, 2)
    const sinceMs = flags.since === undefined ? undefined : parseGoDuration(flags.since)
    if (flags.since !== undefined && sinceMs === undefined) throw new NodedocError(`--since: "${flags.since}" is not a duration (e.g. 30s, 5m, 1h30m)`, 2)
    if (flags.watch && flags.from) throw new NodedocError('-w watches a live node; a snapshot shows what had happened when it was taken', 2)
    const host = await this.openHost(flags).catch((error) => {
      throw error instanceof SnapshotError ? new NodedocError(error.message, 3) : error
    })
    const stop = new AbortController()
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort())
    process.stdout.on('error', () => stop.abort())
    const format = flags.output as OutputFormat
    const cut = sinceMs === undefined ? undefined : Date.now() - sinceMs
    const table = eventsStream(format === 'wide')
    const show = (events: UsageEvent[], first: boolean) => {
      let kept = selectEvents(events, flags.namespace, args.pod)
      if (cut !== undefined) {
        const since = eventsSince(kept, cut)
        kept = since.events
        if (first && since.untimed) host.warnings.add('events:untimed', `--since left out ${since.untimed} event(s) known only as counts since a cgroup was made`)
      }
      if (format === 'json' || format === 'yaml') for (const e of kept) process.stdout.write(renderStreamItem(e, format, () => ''))
      else process.stdout.write(table(kept, first))
    }
    try {
      await watchEvents(host, new UsageSampler(host), {intervalMs, watch: flags.watch, signal: stop.signal, throttlePercent: flags['throttle-threshold']}, show)
    } catch (error) {
      if (error instanceof NodeUnreadableError) throw new NodedocError(error.message, 3)
      throw error
    }
  }
}
