import {Args, Flags} from '@oclif/core'
import {NodedocCommand} from '../src/cli/base-command.js'
import {NodedocError} from '../src/errors.js'
import {provenanceOf} from '../src/host/provenance.js'
import {withInterrupt} from '../src/interrupt.js'
import {parseGoDuration} from '../src/logs/duration.js'
import {eventsSince} from '../src/usage/events.js'
import {EVENT_DOCUMENT, eventsStream} from '../src/usage/render.js'
import {UsageSampler} from '../src/usage/sample.js'
import {selectEvents} from '../src/usage/select.js'
import type {UsageEvent} from '../src/usage/types.js'
import {watchEvents} from '../src/usage/watch.js'

export default class Events extends NodedocCommand {
  static summary = 'Kernel-level events per pod: OOM kills, restarts, CPU throttling, pids limit, exits'
  static description = 'Without -w: what the cgroup counters (counts since each cgroup was made), the kernel log and the log folders (one N.log per restart) show has happened. With -w: also what each interval adds. -o json prints one EventList document: with -w, one more per interval that has events, each on one line (JSON lines). Exit codes: 0 ok, 2 usage error, 3 the node could not be read.'
  static examples = [
    '<%= config.bin %> events',
    '<%= config.bin %> events web-0 -n shop --since 10m',
    '<%= config.bin %> events -w -o json | jq -c \'.items[]\'   # one JSON document per batch of events',
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
    const host = await this.openHost(flags)
    // counted from when the facts were read: now, or the snapshot's time
    const readAt = flags.from ? Date.parse((await provenanceOf(host)).capturedAt) : Date.now()
    const cut = sinceMs === undefined ? undefined : readAt - sinceMs
    const table = eventsStream(flags.output === 'wide')
    let first = true
    const print = await this.streamPrinter<UsageEvent[]>(flags, (events) => table(events, first), EVENT_DOCUMENT)
    const show = (events: UsageEvent[], isFirst: boolean) => {
      let kept = selectEvents(events, flags.namespace, args.pod)
      if (cut !== undefined) {
        const since = eventsSince(kept, cut)
        kept = since.events
        if (isFirst && since.untimed) host.warnings.add('events:untimed', `--since left out ${since.untimed} event(s) known only as counts since a cgroup was made`)
      }
      first = isFirst
      // -w: a document per interval that has something to tell
      if (isFirst || kept.length > 0) print(kept, new Date(isFirst ? readAt : Date.now()).toISOString())
    }
    await withInterrupt(({signal}) => watchEvents(host, new UsageSampler(host), {intervalMs, watch: flags.watch, signal, throttlePercent: flags['throttle-threshold']}, show))
  }
}
