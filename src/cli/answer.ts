// How a command's answer, warnings and errors reach the terminal, without oclif: the base
// command (base-command.ts) and the launcher's direct path (direct.ts) both print through here,
// so a run that skips oclif's start writes the same bytes and exits with the same code.
import chalk from 'chalk'
import type {Host} from '../host/host.js'
import {openHost} from '../host/open.js'
import {type DocumentShape, type TableView, parseOutputFormat, writeOutput} from '../output/output.js'
import {provenanceOf} from '../host/provenance.js'
import {NodedocError} from '../errors.js'
import {escapeControl, terminalSafe} from '../output/escape.js'

if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') chalk.level = 0

export interface OutputFlags {
  output?: string
  'no-headers'?: boolean
  'sort-by'?: string
}

/** The Host a command's flags name. A bad -o is refused first, before any work, as oclif refuses a bad flag. */
export async function openHostFor(flags: {from?: string; 'host-root'?: string; output?: string}): Promise<Host> {
  if (flags.output !== undefined) parseOutputFormat(flags.output)
  return openHost({from: flags.from, hostRoot: flags['host-root']})
}

/**
 * The one print path: -o, --no-headers and --sort-by, the same for every command. raw: the
 * table view's text as it is (`logs`, which escapes its own lines when it should).
 */
export async function printRecord<T>(host: Host | undefined, value: T, flags: OutputFlags, table: TableView<T>, shape: DocumentShape<T>, options: {raw?: boolean} = {}): Promise<void> {
  const format = parseOutputFormat(flags.output ?? 'table')
  const provenance = format.kind === 'table' || format.kind === 'wide' || format.kind === 'name' ? {node: null, capturedAt: ''} : await provenanceOf(host)
  // in pieces as it is made: a large list is never held as one string (stdout is synchronous for files and pipes)
  writeOutput(value, format, table, shape, provenance, {noHeaders: flags['no-headers'], sortBy: flags['sort-by'], raw: options.raw}, (chunk) => process.stdout.write(chunk))
}

/** One warning line on stderr now; what it quotes (paths, names, messages) is shown escaped. */
export function warnNow(message: string): void {
  process.stderr.write(chalk.yellow(`warning: ${escapeControl(message)}`) + '\n')
}

/** The Host's folded warnings, after the answer. */
export function printHostWarnings(host: Host | undefined): void {
  for (const line of host?.warnings.list() ?? []) warnNow(line)
}

/** One error line on stderr, escaped like a warning. */
function fail(message: string): void {
  process.stderr.write(chalk.red(`error: ${escapeControl(message)}`) + '\n')
}

/**
 * Any error a command ends with, as one line on stderr and an exit code: a NodedocError with its
 * own code, a flag or argument oclif refused as a usage error (2), anything else as a failure
 * nodedoc did not foresee (4, the stack only with NODEDOC_DEBUG).
 */
export function reportError(error: Error & {oclif?: {exit?: number}}): void {
  if (error instanceof NodedocError) {
    fail(error.message)
    if (error.detail) process.stderr.write(terminalSafe(error.detail))
    process.exitCode = error.exitCode
    return
  }
  if (error.oclif) {
    // a flag or argument oclif refused: its first line says which, in one line like every other error
    const said = error.message
      .split('\n')
      .map((line) => line.replace(/^\s*(›\s*)?(Error:\s*)?/, '').trim())
      .filter((line) => line && !/^(The following errors? occurred:|See more help with --help)$/.test(line))
    fail(`${said.join('; ')} (see --help)`)
    process.exitCode = error.oclif.exit ?? 2
    return
  }
  fail(error.message)
  if (process.env.NODEDOC_DEBUG) process.stderr.write(`${error.stack}\n`)
  process.exitCode = 4
}
