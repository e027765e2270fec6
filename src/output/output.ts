import * as YAML from 'yaml'
import {escapeDeep, terminalSafe} from './escape.js'

export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml'] as const
export type OutputFormat = (typeof OUTPUT_FORMATS)[number]

/** A command's table view: the same record, laid out for people. */
export type TableView<T> = (value: T, wide: boolean) => string

export interface RenderOptions {
  /** Tables as the text is, control characters and all (`logs --no-escape`, kubectl's behaviour). */
  raw?: boolean
}

/**
 * The one place that turns a result into text, the same -o for every command. JSON and YAML
 * are exact; tables and text are for a terminal, so control characters in any value are
 * shown escaped (src/output/escape.ts), whatever the view does with them.
 */
export function renderOutput<T>(value: T, format: OutputFormat, table: TableView<T>, options: RenderOptions = {}): string {
  switch (format) {
    case 'json':
      return JSON.stringify(value, null, 2) + '\n'
    case 'yaml':
      return YAML.stringify(value, {lineWidth: 0})
    default: {
      const wide = format === 'wide'
      return options.raw ? table(value, wide) : terminalSafe(table(escapeDeep(value), wide))
    }
  }
}
