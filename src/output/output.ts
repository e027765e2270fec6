import * as YAML from 'yaml'

export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml'] as const
export type OutputFormat = (typeof OUTPUT_FORMATS)[number]

/** A command's table view: the same record, laid out for people. */
export type TableView<T> = (value: T, wide: boolean) => string

/** The one place that turns a result into text, the same -o for every command. */
export function renderOutput<T>(value: T, format: OutputFormat, table: TableView<T>): string {
  switch (format) {
    case 'json':
      return JSON.stringify(value, null, 2) + '\n'
    case 'yaml':
      return YAML.stringify(value, {lineWidth: 0})
    case 'wide':
      return table(value, true)
    default:
      return table(value, false)
  }
}
