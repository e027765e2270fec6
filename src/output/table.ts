import stringWidth from 'string-width'
import {escapeControl} from './escape.js'

/**
 * How tables are laid out for this run, set by the output layer (renderOutput): headers or not
 * (--no-headers), and the width a default table must fit (80 columns; none for -o wide).
 */
export const tableOptions = {headers: true, width: Infinity}

const GAP = '   '
/** A column is not shortened below this: room for a 13-character ID, as crictl prints them. */
const MIN_COLUMN = 13
const ELLIPSIS = '...'

/**
 * text cut to width columns. A path keeps more of its end (the file or volume name tells most),
 * anything else keeps its start and end in equal parts (IDs and names differ at both).
 */
export function elide(text: string, width: number): string {
  if (widthOf(text) <= width) return text
  if (width <= ELLIPSIS.length) return text.slice(0, width)
  const keep = width - ELLIPSIS.length
  const head = text.includes('/') ? Math.ceil(keep / 3) : Math.ceil(keep / 2)
  const tail = keep - head
  // for wide characters the cut is approximate; this only ever makes a cell narrower
  return text.slice(0, head) + ELLIPSIS + (tail > 0 ? text.slice(-tail) : '')
}

/**
 * Column widths that fit `width`: every column wider than some cap C is cut to C, the largest C
 * that fits (narrow columns keep their width), never below MIN_COLUMN.
 */
function fitWidths(natural: number[], width: number): number[] {
  const budget = width - GAP.length * (natural.length - 1)
  const sum = (cap: number) => natural.reduce((a, w) => a + Math.min(w, cap), 0)
  if (sum(Infinity) <= budget) return natural
  let lo = MIN_COLUMN
  let hi = Math.max(...natural)
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2)
    if (sum(mid) <= budget) lo = mid
    else hi = mid - 1
  }
  return natural.map((w) => Math.min(w, lo))
}

/**
 * kubectl-style columns: upper-case headers, no borders, three spaces between columns. Plain
 * padding, linear in the number of rows (10k rows in milliseconds). A default table fits
 * tableOptions.width by shortening its longest cells in the middle; -o wide and JSON keep them whole.
 */
export function columns(head: string[], rows: Array<Array<string | number | undefined | null>>): string {
  const header = head.map((h) => h.toUpperCase())
  const n = header.length
  // cells and their widths measured once, row-major: a 10k-row table measures 70k cells
  const cells: string[] = []
  const cellWidths: number[] = []
  const natural = header.map(widthOf)
  for (const row of rows) {
    for (let i = 0; i < n; i++) {
      const cell = row[i]
      // one cell, one line: a newline in a value must not make a row of its own
      const text = cell === undefined || cell === null || cell === '' ? '-' : String(cell)
      // printable ASCII (the usual cell) is itself, as wide as it is long: one test, no copy
      const plain = PRINTABLE_ASCII.test(text)
      const shown = plain ? text : escapeControl(text)
      const w = plain ? text.length : widthOf(shown)
      cells.push(shown)
      cellWidths.push(w)
      if (w > natural[i]) natural[i] = w
    }
  }
  const widths = Number.isFinite(tableOptions.width) ? fitWidths(natural, tableOptions.width) : natural
  let out = tableOptions.headers ? tableLine(header, header.map(widthOf), 0, widths) : ''
  for (let at = 0; at < cells.length; at += n) out += tableLine(cells, cellWidths, at, widths)
  return out
}

/** One row of columns(): each cell padded to its column's width (the last one not), cut where wider. */
function tableLine(texts: string[], measured: number[], at: number, widths: number[]): string {
  const n = widths.length
  let out = ''
  for (let i = 0; i < n; i++) {
    let text = texts[at + i]
    let w = measured[at + i]
    if (w > widths[i]) {
      text = elide(text, widths[i])
      w = widthOf(text)
    }
    out += i === n - 1 ? text : text + pad(widths[i] - w) + GAP
  }
  // only a last cell that ends in white space leaves any at the end of the line
  return (TRAILING_SPACE.test(out) ? out.trimEnd() : out) + '\n'
}

/** Printable ASCII is as wide as it is long; anything else (wide, combining, emoji) is measured. */
function widthOf(text: string): number {
  return PRINTABLE_ASCII.test(text) ? text.length : stringWidth(text)
}
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/
const TRAILING_SPACE = /\s$/
const PADS: string[] = []
/** n spaces, made once per width. */
function pad(n: number): string {
  if (n <= 0) return ''
  return (PADS[n] ??= ' '.repeat(n))
}

/** "Key: value" lines, aligned, for one record; values shortened to the table width like cells. */
export function fields(pairs: Array<[string, string | number | undefined | null]>): string {
  const width = Math.max(...pairs.map(([k]) => k.length)) + 1
  const room = tableOptions.width - (width + 1)
  return pairs.map(([k, v]) => {
    const text = v === undefined || v === null || v === '' ? '-' : escapeControl(String(v))
    return `${(k + ':').padEnd(width + 1)}${Number.isFinite(room) ? elide(text, Math.max(MIN_COLUMN, room)) : text}`
  }).join('\n') + '\n'
}

/** A container or sandbox ID as crictl shows it: its first 13 characters. */
export function shortId(id: string): string
export function shortId(id: string | null | undefined): string | undefined
export function shortId(id: string | null | undefined): string | undefined {
  return id ? id.slice(0, 13) : undefined
}

/**
 * Human bytes, one way everywhere, in Kubernetes' binary units: 209715200 -> 200Mi,
 * 3313664 -> 3.2Mi, 454656 -> 444Ki, 512 -> 512. One decimal below 10 of a unit, none above.
 */
export function bytes(value: number | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined
  const units = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi']
  let v = value
  let i = 0
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  if (i === 0 || Number.isInteger(v)) return `${v}${units[i]}`
  return `${Math.abs(v) < 10 ? Math.round(v * 10) / 10 : Math.round(v)}${units[i]}`
}

/** kubectl's AGE: 45s, 5m, 3h, 2d (and 2d3h under three days, as kubectl prints). */
export function age(seconds: number | null | undefined): string | undefined {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return undefined
  const s = Math.floor(seconds)
  if (s < 120) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 10) return `${m}m${s % 60 ? `${s % 60}s` : ''}`
  if (m < 180) return m < 60 ? `${m}m` : `${Math.floor(m / 60)}h${m % 60 ? `${m % 60}m` : ''}`
  const h = Math.floor(m / 60)
  if (h < 48) return `${h}h`
  const d = Math.floor(h / 24)
  if (d < 8) return `${d}d${h % 24 ? `${h % 24}h` : ''}`
  if (d < 365 * 2) return `${d}d`
  return `${Math.floor(d / 365)}y`
}

/**
 * Lines longer than width folded at spaces, each continuation indented under the line's value
 * column (the text after its first run of two or more spaces: doctor's "seen", a field's value)
 * or its own indentation. Prose (doctor's why and fix, a CNI file name) wraps; tables were already
 * fitted. ANSI colour codes count as no width.
 */
export function foldLines(text: string, width: number): string {
  if (!Number.isFinite(width)) return text
  return text.split('\n').map((line) => foldLine(line, width)).join('\n')
}

function foldLine(line: string, width: number): string {
  if (widthOf(line) <= width) return line
  const plain = line.replace(/\x1b\[[0-9;]*m/g, '')
  const column = /^(\s*\S.*?\s{2,})\S/.exec(plain)?.[1].length
  const indent = column !== undefined && column < width / 2 ? column : (/^\s*/.exec(plain)?.[0].length ?? 0) + 2
  const out: string[] = []
  let rest = line
  let first = true
  for (;;) {
    const room = first ? width : width - indent
    if (stringWidth(rest) <= room) break
    // the last space that leaves the piece within room (counting visible characters)
    let cut = -1
    let visible = 0
    for (let i = 0; i < rest.length && visible <= room; i++) {
      if (rest[i] === '\x1b') {
        const end = rest.indexOf('m', i)
        if (end > 0) {
          i = end
          continue
        }
      }
      if (rest[i] === ' ' && visible > indent / 2) cut = i
      visible++
    }
    if (cut <= 0) break
    out.push((first ? '' : ' '.repeat(indent)) + rest.slice(0, cut).trimEnd())
    rest = rest.slice(cut + 1).trimStart()
    first = false
  }
  out.push((first ? '' : ' '.repeat(indent)) + rest)
  return out.join('\n')
}
