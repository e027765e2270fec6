import {Command, Errors, Flags} from '@oclif/core'
import chalk from 'chalk'
import type {Host} from '../host/host.js'
import {openHost} from '../host/open.js'
import {type DocumentShape, OUTPUT_HELP, type TableView, parseOutputFormat, renderStreamDocument, writeOutput} from '../output/output.js'
import {provenanceOf} from '../host/provenance.js'
import {NodedocError} from '../errors.js'
import {escapeControl, terminalSafe} from '../output/escape.js'
import {watchOutput} from '../interrupt.js'

if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') chalk.level = 0

export const hostRootFlag = Flags.string({description: "where the node's filesystem is mounted (e.g. /host in kubectl debug node)", env: 'NODEDOC_HOST_ROOT', default: '/'})

export interface OutputFlags {
  output?: string
  'no-headers'?: boolean
  'sort-by'?: string
}

/** The one way a command prints, warns and fails. */
export abstract class NodedocBase extends Command {
  protected host?: Host

  async init(): Promise<void> {
    // `nodedoc ps -A | head`: a closed pipe ends the command quietly, not with a stack trace
    watchOutput()
    return super.init()
  }

  protected async openHost(flags: {from?: string; 'host-root'?: string; output?: string}): Promise<Host> {
    // a usage error before any work: a bad -o is refused as oclif refuses a bad flag
    if (flags.output !== undefined) parseOutputFormat(flags.output)
    this.host = await openHost({from: flags.from, hostRoot: flags['host-root']})
    return this.host
  }

  /**
   * The one print path: -o, --no-headers and --sort-by, the same for every command. raw: the
   * table view's text as it is (`logs`, which escapes its own lines when it should).
   */
  protected async print<T>(value: T, flags: OutputFlags, table: TableView<T>, shape: DocumentShape<T>, options: {raw?: boolean} = {}): Promise<void> {
    const format = parseOutputFormat(flags.output ?? 'table')
    const provenance = format.kind === 'table' || format.kind === 'wide' || format.kind === 'name' ? {node: null, capturedAt: ''} : await provenanceOf(this.host)
    // in pieces as it is made: a large list is never held as one string (stdout is synchronous for files and pipes)
    writeOutput(value, format, table, shape, provenance, {noHeaders: flags['no-headers'], sortBy: flags['sort-by'], raw: options.raw}, (chunk) => process.stdout.write(chunk))
  }

  /**
   * A printer for a stream of documents (a sample, a batch of events), each printed as it
   * comes: JSON lines, YAML documents, or a table; capturedAt is when its facts were read.
   */
  protected async streamPrinter<T>(flags: OutputFlags, table: TableView<T>, shape: DocumentShape<T>): Promise<(value: T, capturedAt: string) => void> {
    const format = parseOutputFormat(flags.output ?? 'table')
    const structured = format.kind !== 'table' && format.kind !== 'wide' && format.kind !== 'name'
    const node = structured ? (await provenanceOf(this.host)).node : null
    const options = {noHeaders: flags['no-headers'], sortBy: flags['sort-by']}
    return (value, capturedAt) => process.stdout.write(renderStreamDocument(value, format, table, shape, {node, capturedAt}, options)) as unknown as void
  }

  /** An answer that is text already (a graph, a manifest, one line per log entry as it comes). */
  protected printText(text: string): void {
    process.stdout.write(text)
  }

  /** Narration beside the answer (the steps --explain shows): stderr, so stdout stays the answer. */
  protected printAside(text: string): void {
    process.stderr.write(text)
  }

  /** One warning line on stderr now (the Host's folded warnings follow the answer); what it quotes (paths, names, messages) is shown escaped. */
  protected warnNow(message: string): void {
    process.stderr.write(chalk.yellow(`warning: ${escapeControl(message)}`) + '\n')
  }

  /** One error line on stderr, escaped like a warning. */
  private fail(message: string): void {
    process.stderr.write(chalk.red(`error: ${escapeControl(message)}`) + '\n')
  }

  protected async finally(error: Error | undefined): Promise<unknown> {
    for (const line of this.host?.warnings.list() ?? []) this.warnNow(line)
    return super.finally(error)
  }

  protected async catch(error: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    if (error instanceof NodedocError) {
      this.fail(error.message)
      if (error.detail) process.stderr.write(terminalSafe(error.detail))
      process.exitCode = error.exitCode
      return
    }
    // this.exit() travels as an error too: let oclif handle it
    if (error instanceof Errors.ExitError) return super.catch(error)
    if (error.oclif) {
      // a flag or argument oclif refused: its first line says which, in one line like every other error
      const said = error.message
        .split('\n')
        .map((line) => line.replace(/^\s*(›\s*)?(Error:\s*)?/, '').trim())
        .filter((line) => line && !/^(The following errors? occurred:|See more help with --help)$/.test(line))
      this.fail(`${said.join('; ')} (see --help)`)
      process.exitCode = error.oclif.exit ?? 2
      return
    }
    // a failure nodedoc did not foresee: exit 4, so scripts tell it from a usage error (2)
    this.fail(error.message)
    if (process.env.NODEDOC_DEBUG) process.stderr.write(`${error.stack}\n`)
    process.exitCode = 4
  }
}

/** Flags every inspection command takes: -o, --host-root, --from. */
export abstract class NodedocCommand extends NodedocBase {
  static baseFlags = {
    output: Flags.string({char: 'o', description: OUTPUT_HELP, default: 'table'}),
    'no-headers': Flags.boolean({description: 'tables and custom-columns without their header lines'}),
    'sort-by': Flags.string({description: "sort the records by a JSONPath, as kubectl's --sort-by (e.g. .pid, '{.name}')"}),
    'host-root': hostRootFlag,
    from: Flags.string({description: 'read a snapshot folder or .tar.gz instead of the live machine'}),
  }
}
