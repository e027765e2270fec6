import {Command, Errors, Flags} from '@oclif/core'
import type {Host} from '../host/host.js'
import {type DocumentShape, OUTPUT_HELP, type TableView, parseOutputFormat, renderStreamDocument} from '../output/output.js'
import {provenanceOf} from '../host/provenance.js'
import {watchOutput} from '../interrupt.js'
import {type OutputFlags, openHostFor, printHostWarnings, printRecord, reportError, warnNow} from './answer.js'

export type {OutputFlags} from './answer.js'

export const hostRootFlag = Flags.string({description: "where the node's filesystem is mounted (e.g. /host in kubectl debug node)", env: 'NODEDOC_HOST_ROOT', default: '/'})

/** The one way a command prints, warns and fails. */
export abstract class NodedocBase extends Command {
  protected host?: Host

  async init(): Promise<void> {
    // `nodedoc ps -A | head`: a closed pipe ends the command quietly, not with a stack trace
    watchOutput()
    return super.init()
  }

  protected async openHost(flags: {from?: string; 'host-root'?: string; output?: string}): Promise<Host> {
    this.host = await openHostFor(flags)
    return this.host
  }

  /**
   * The one print path: -o, --no-headers and --sort-by, the same for every command. raw: the
   * table view's text as it is (`logs`, which escapes its own lines when it should).
   */
  protected async print<T>(value: T, flags: OutputFlags, table: TableView<T>, shape: DocumentShape<T>, options: {raw?: boolean} = {}): Promise<void> {
    return printRecord(this.host, value, flags, table, shape, options)
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
    warnNow(message)
  }

  protected async finally(error: Error | undefined): Promise<unknown> {
    printHostWarnings(this.host)
    return super.finally(error)
  }

  protected async catch(error: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    // this.exit() travels as an error too: let oclif handle it
    if (error instanceof Errors.ExitError) return super.catch(error)
    reportError(error)
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
