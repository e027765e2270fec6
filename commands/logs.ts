import {Args, Flags} from '@oclif/core'
import {NodedocCommand} from '../src/cli/base-command.js'
import {NodedocError} from '../src/errors.js'
import {parseGoDuration} from '../src/logs/duration.js'
import {type LogsQuery, followLogs, readLogs} from '../src/logs/logs.js'
import {formatEntry} from '../src/logs/read.js'
import {LOG_DOCUMENT} from '../src/logs/logs.js'
import {provenanceOf} from '../src/host/provenance.js'

export default class Logs extends NodedocCommand {
  static summary = "A pod's container log, read from /var/log/pods (no runtime socket needed)"
  static description = 'Reads the CRI log files the runtime wrote: P fragments joined to their F line, rotated .log.<time> and .gz files in order, stdout and stderr merged by time.'
  static examples = [
    '<%= config.bin %> logs coredns-5d78c9869d-8xq2p -n kube-system',
    '<%= config.bin %> logs web -c nginx --previous --tail 50',
    '<%= config.bin %> logs web --since 10m --timestamps -f',
  ]

  static args = {pod: Args.string({description: 'pod name (or pod UID)', required: true})}

  static flags = {
    namespace: Flags.string({char: 'n', description: 'pod namespace (default: any namespace, if the name is unique, as `pod` does)'}),
    container: Flags.string({char: 'c', description: 'container name (needed when the pod has several)'}),
    previous: Flags.boolean({char: 'p', description: "the previous instance's log (the restart before the current one)", default: false}),
    tail: Flags.integer({description: 'only the last N lines (-1: all)', default: -1}),
    since: Flags.string({description: 'only lines newer than this Go duration (5s, 2m, 1h30m)'}),
    timestamps: Flags.boolean({description: "prefix each line with the runtime's RFC3339Nano time", default: false}),
    stream: Flags.string({description: 'which stream', options: ['all', 'stdout', 'stderr'], default: 'all'}),
    follow: Flags.boolean({char: 'f', description: 'keep printing new lines, through log rotation', default: false}),
    'poll-interval': Flags.integer({description: 'with -f: milliseconds between looks at the file', default: 500, hidden: true}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Logs)
    const host = await this.openHost(flags)
    let sinceUnixNano: bigint | undefined
    if (flags.since !== undefined) {
      const ms = parseGoDuration(flags.since)
      if (ms === undefined) throw new NodedocError(`--since: "${flags.since}" is not a duration (e.g. 30s, 5m, 1h30m)`)
      // from when the facts were read: now, or the snapshot's time (else --from shows nothing)
      const now = Date.parse((await provenanceOf(host)).capturedAt)
      sinceUnixNano = BigInt(Math.floor(now - ms)) * 1_000_000n
    }
    const query: LogsQuery = {
      pod: args.pod,
      namespace: flags.namespace,
      container: flags.container,
      previous: flags.previous,
      filter: {sinceUnixNano, tail: flags.tail >= 0 ? flags.tail : undefined, stream: flags.stream as 'all' | 'stdout' | 'stderr'},
    }
    const structured = flags.output === 'json' || flags.output === 'yaml'
    if (flags.follow) {
      if (flags.previous) throw new NodedocError('--follow and --previous do not go together: a previous instance no longer writes')
      const stop = new AbortController()
      process.once('SIGINT', () => stop.abort())
      process.once('SIGTERM', () => stop.abort())
      await followLogs(host, query, (entry) => {
        // -f with -o json/yaml prints one JSON object per line
        const line = structured ? JSON.stringify({time: entry.time, stream: entry.stream, text: entry.text, incomplete: entry.incomplete}) : formatEntry(entry, flags.timestamps)
        process.stdout.write(line + '\n')
      }, {pollMs: flags['poll-interval'], signal: stop.signal})
      return
    }
    const report = await readLogs(host, query)
    await this.print(report, flags, (r) => r.entries.map((e) => formatEntry(e, flags.timestamps) + '\n').join(''), LOG_DOCUMENT)
  }
}
