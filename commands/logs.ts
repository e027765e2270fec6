import {Args, Flags} from '@oclif/core'
import {NodedocCommand} from '../src/cli/base-command.js'
import {NodedocError} from '../src/errors.js'
import {sinceCutoff} from '../src/logs/duration.js'
import {type LogsQuery, followLogs, readLogs} from '../src/logs/logs.js'
import {formatEntry} from '../src/logs/read.js'
import type {LogEntry} from '../src/parse/cri-log.js'
import {withInterrupt} from '../src/interrupt.js'
import {escapeControl} from '../src/output/escape.js'
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
    escape: Flags.boolean({description: 'show control characters in log lines as escapes (\\x1b, \\r): the default when stdout is a terminal; --no-escape prints them raw, as kubectl does', allowNo: true}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Logs)
    const host = await this.openHost(flags)
    // counted from when the facts were read: now, or the snapshot's time (else --from shows nothing)
    const sinceUnixNano = flags.since === undefined ? undefined : sinceCutoff(flags.since, Date.parse((await provenanceOf(host)).capturedAt))
    const query: LogsQuery = {
      pod: args.pod,
      namespace: flags.namespace,
      container: flags.container,
      previous: flags.previous,
      filter: {sinceUnixNano, tail: flags.tail >= 0 ? flags.tail : undefined, stream: flags.stream as 'all' | 'stdout' | 'stderr'},
    }
    const structured = flags.output === 'json' || flags.output === 'yaml'
    // a container writes what it likes: on a terminal, escape sequences in its lines are shown,
    // not obeyed (tabs stay); piped elsewhere, the bytes are kubectl's, unchanged
    const escape = flags.escape ?? Boolean(process.stdout.isTTY)
    const text = (entry: Pick<LogEntry, 'time' | 'text'>) => {
      const line = formatEntry(entry, flags.timestamps)
      return escape ? escapeControl(line, '\t') : line
    }
    if (flags.follow) {
      if (flags.previous) throw new NodedocError('--follow and --previous do not go together: a previous instance no longer writes')
      await withInterrupt(({signal}) => followLogs(host, query, (entry) => {
        // -f with -o json/yaml prints one JSON object per line
        const line = structured ? JSON.stringify({time: entry.time, stream: entry.stream, text: entry.text, incomplete: entry.incomplete}) : text(entry)
        this.printText(line + '\n')
      }, {pollMs: flags['poll-interval'], signal}))
      return
    }
    const report = await readLogs(host, query)
    await this.print(report, flags, (r) => r.entries.map((e) => text(e) + '\n').join(''), LOG_DOCUMENT, {raw: true})
  }
}
