import * as YAML from 'yaml'
import {NodedocError} from '../errors.js'
import {escapeControl, escapeDeep, terminalSafe} from './escape.js'
import {jsonpathTemplate, jsonpathValues} from './jsonpath.js'
import {foldLines, tableOptions} from './table.js'

/** What -o takes: the named formats, and kubectl's three that carry their own argument. */
export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml', 'name', 'jsonpath=TEMPLATE', 'custom-columns=SPEC'] as const
export const OUTPUT_HELP = 'output format: table (default), wide, json, yaml, name, jsonpath=TEMPLATE (kubectl\'s), custom-columns=HEADER:.path,...'
/** What a default table fits: an 80-column terminal, as kubectl and crictl keep theirs. */
export const TABLE_WIDTH = 80
/** The version of the JSON/YAML contract (docs/schema.md). */
export const API_VERSION = 'nodedoc/v1'

export type OutputFormat =
  | {kind: 'table' | 'wide' | 'json' | 'yaml' | 'name'}
  | {kind: 'jsonpath'; template: string}
  | {kind: 'custom-columns'; columns: Array<{header: string; path: string}>}

/** -o's value, or a one-line usage error (exit 2). */
export function parseOutputFormat(text: string): OutputFormat {
  if (['table', 'wide', 'json', 'yaml', 'name'].includes(text)) return {kind: text as 'table'}
  const jsonpath = /^jsonpath=(.*)$/s.exec(text)
  if (jsonpath) {
    if (!jsonpath[1]) throw new NodedocError('-o jsonpath= needs a template, e.g. -o jsonpath=\'{.items[*].name}\'', 2)
    jsonpathTemplate({}, jsonpath[1]) // a template that does not parse is a usage error before any work
    return {kind: 'jsonpath', template: jsonpath[1]}
  }
  const custom = /^custom-columns=(.*)$/s.exec(text)
  if (custom) {
    const columns = custom[1].split(',').filter(Boolean).map((spec) => {
      const at = spec.indexOf(':')
      if (at <= 0 || at === spec.length - 1) throw new NodedocError(`-o custom-columns: "${spec}" is not HEADER:.path`, 2)
      return {header: spec.slice(0, at), path: spec.slice(at + 1)}
    })
    if (columns.length === 0) throw new NodedocError('-o custom-columns= needs HEADER:.path,...', 2)
    return {kind: 'custom-columns', columns}
  }
  throw new NodedocError(`unknown output format "${text}"; use one of ${OUTPUT_FORMATS.join(', ')}`, 2)
}

/** A command's table view: the same record, laid out for people. */
export type TableView<T> = (value: T, wide: boolean) => string

/** How a command's result reads as a document: its kind, and where its records are. */
export interface DocumentShape<T> {
  /** kind in the JSON/YAML envelope: `Pod`, `ProcessList`, ... */
  kind: string
  /** The records a list holds (-o name, custom-columns, --sort-by); a single record is its own list. */
  items?: (value: T) => unknown[]
  /** Puts sorted records back (when the list lives inside the value). */
  withItems?: (value: T, items: unknown[]) => T
  /** -o name: kubectl's TYPE/NAME, one per record (typed by each command's own record). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  name?: (item: any) => string
}

export interface Provenance {
  /** The node's hostname, or the snapshot's. */
  node: string | null
  /** When the facts were read: now, or the snapshot's time. */
  capturedAt: string
}

export interface RenderOptions {
  noHeaders?: boolean
  sortBy?: string
  /** Table views as the text is, control characters and all (`logs`, which escapes its own lines when it should). */
  raw?: boolean
}

/** The JSON/YAML document: apiVersion, kind, node, capturedAt, then the record's fields or `items`. */
export function envelope<T>(value: T, shape: DocumentShape<T>, provenance: Provenance): Record<string, unknown> {
  const head = {apiVersion: API_VERSION, kind: shape.kind, node: provenance.node, capturedAt: provenance.capturedAt}
  if (Array.isArray(value)) return {...head, items: value}
  return {...head, ...(value as object)}
}

function recordsOf<T>(value: T, shape: DocumentShape<T>): unknown[] {
  if (shape.items) return shape.items(value)
  return Array.isArray(value) ? value : [value]
}

/** Sorts the records by a JSONPath (kubectl's --sort-by): numbers as numbers, missing values last. */
export function sortRecords<T>(value: T, shape: DocumentShape<T>, path: string): T {
  const records = recordsOf(value, shape)
  const key = (record: unknown) => jsonpathValues(record, path)[0]
  const sorted = records
    .map((record, i) => ({record, i, k: key(record)}))
    .sort((a, b) => {
      if (a.k === b.k) return a.i - b.i
      if (a.k === undefined || a.k === null) return 1
      if (b.k === undefined || b.k === null) return -1
      if (typeof a.k === 'number' && typeof b.k === 'number') return a.k - b.k
      const x = String(a.k)
      const y = String(b.k)
      return x < y ? -1 : x > y ? 1 : a.i - b.i
    })
    .map((s) => s.record)
  if (shape.withItems) return shape.withItems(value, sorted)
  return (Array.isArray(value) ? sorted : value) as T
}

/**
 * The one place that turns a result into text, the same -o for every command. JSON, YAML and
 * jsonpath are exact (for programs); tables, -o name and custom-columns are for a terminal, so
 * control characters in any value are shown escaped (src/output/escape.ts), whatever the view
 * does with them: every string of the record is escaped before the view sees it, and a last
 * pass lets only newlines and nodedoc's own colours through.
 */
export function renderOutput<T>(value: T, format: OutputFormat, table: TableView<T>, shape: DocumentShape<T>, provenance: Provenance, options: RenderOptions = {}): string {
  let text = ''
  writeOutput(value, format, table, shape, provenance, options, (chunk) => {
    text += chunk
  })
  return text
}

/**
 * renderOutput's text, handed to `write` in pieces as it is made: JSON a few records of a list
 * at a time (the same bytes as JSON.stringify of the whole document: a 10k-service document is
 * never one 66 MB string); every other format as renderOutput draws it.
 */
export function writeOutput<T>(value: T, format: OutputFormat, table: TableView<T>, shape: DocumentShape<T>, provenance: Provenance, options: RenderOptions, write: (chunk: string) => void): void {
  const sorted = options.sortBy ? sortRecords(value, shape, options.sortBy) : value
  if (format.kind === 'json') return writeJson(envelope(sorted, shape, provenance), write)
  write(renderText(sorted, format, table, shape, provenance, options))
}

/**
 * Records of a list turned into JSON and written at a time. Pieces of ~100 KB measured fastest: a
 * megabyte built by concatenation costs a copy to flatten, and large strings are slower to write.
 */
const BATCH = 16

/**
 * JSON.stringify(doc, null, 2) + '\n', written field by field and, in a list, a few records at a
 * time. Each piece is JSON.stringify's own text for the value at the depth it has in the document
 * (wrapped as deep, then unwrapped), so undefined, toJSON and escapes come out as in one call.
 */
function writeJson(doc: Record<string, unknown>, write: (chunk: string) => void): void {
  let buffer = '{'
  let first = true
  for (const key of Object.keys(doc)) {
    const v = doc[key]
    const field = `${first ? '' : ','}\n  ${JSON.stringify(key)}: `
    if (!Array.isArray(v) || v.length === 0 || 'toJSON' in v) {
      // {"key": v} is v at depth 1: less its braces and key; "{}" when JSON leaves the field out (undefined, a function)
      const wrapped = JSON.stringify({[key]: v}, null, 2)
      if (wrapped === '{}') continue
      buffer += field + wrapped.slice(field.length + (first ? 1 : 0), -2)
      first = false
      continue
    }
    write(buffer + field + '[')
    first = false
    for (let i = 0; i < v.length; i += BATCH) {
      // [[records]] puts them at depth 2, as in the document: "[\n  [\n    " ... "\n  ]\n]" around them
      write((i ? ',\n    ' : '\n    ') + JSON.stringify([v.slice(i, i + BATCH)], null, 2).slice(10, -6))
    }
    buffer = '\n  ]'
  }
  write(buffer + (first ? '}\n' : '\n}\n'))
}

function renderText<T>(sorted: T, format: OutputFormat, table: TableView<T>, shape: DocumentShape<T>, provenance: Provenance, options: RenderOptions): string {
  switch (format.kind) {
    case 'yaml':
      return YAML.stringify(envelope(sorted, shape, provenance), {lineWidth: 0})
    case 'name': {
      if (!shape.name) throw new NodedocError(`-o name: ${shape.kind} records have no name`, 2)
      return recordsOf(sorted, shape).map((r) => escapeControl(shape.name!(r)) + '\n').join('')
    }
    case 'jsonpath':
      return jsonpathTemplate(envelope(sorted, shape, provenance), format.template)
    case 'custom-columns': {
      const rows = recordsOf(sorted, shape).map((r) => format.columns.map((c) => {
        const values = jsonpathValues(r, c.path)
        return escapeControl(values.length === 0 ? '<none>' : values.map(cellText).join(','))
      }))
      return withTableOptions({headers: !options.noHeaders, width: Infinity}, () => customColumns(format.columns.map((c) => c.header), rows))
    }
    default: {
      // default tables fit 80 columns (long IDs and paths shortened); wide shows everything
      const width = format.kind === 'wide' ? Infinity : TABLE_WIDTH
      if (options.raw) return foldLines(withTableOptions({headers: !options.noHeaders, width}, () => table(sorted, format.kind === 'wide')), width)
      return terminalSafe(foldLines(withTableOptions({headers: !options.noHeaders, width}, () => table(escapeDeep(sorted), format.kind === 'wide')), width))
    }
  }
}

/**
 * One document of a stream (`top`'s samples, `events -w`'s batches): JSON as one line each
 * (JSON lines: `jq` and line-reading programs take one sample at a time), YAML as one document
 * of a multi-document stream; every other format as renderOutput draws it.
 */
export function renderStreamDocument<T>(value: T, format: OutputFormat, table: TableView<T>, shape: DocumentShape<T>, provenance: Provenance, options: RenderOptions = {}): string {
  const sorted = options.sortBy ? sortRecords(value, shape, options.sortBy) : value
  if (format.kind === 'json') return JSON.stringify(envelope(sorted, shape, provenance)) + '\n'
  if (format.kind === 'yaml') return '---\n' + YAML.stringify(envelope(sorted, shape, provenance), {lineWidth: 0})
  return renderOutput(sorted, format, table, shape, provenance, {...options, sortBy: undefined})
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return '<none>'
  return typeof value === 'object' ? JSON.stringify(value) : String(value)
}

function customColumns(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('   ').trimEnd()
  return [...(tableOptions.headers ? [line(head)] : []), ...rows.map(line)].map((l) => l + '\n').join('')
}

function withTableOptions<R>(options: {headers: boolean; width: number}, render: () => R): R {
  const saved = {...tableOptions}
  Object.assign(tableOptions, options)
  try {
    return render()
  } finally {
    Object.assign(tableOptions, saved)
  }
}
