import Table from 'cli-table3'

const NO_BORDERS = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
  bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '',
  right: '', 'right-mid': '', middle: '   ',
}

/** kubectl-style columns: upper-case headers, no borders, three spaces between columns. */
export function columns(head: string[], rows: Array<Array<string | number | undefined | null>>): string {
  const table = new Table({
    head: head.map((h) => h.toUpperCase()),
    chars: NO_BORDERS,
    style: {head: [], border: [], 'padding-left': 0, 'padding-right': 0},
  })
  for (const row of rows) table.push(row.map((cell) => (cell === undefined || cell === null || cell === '' ? '-' : String(cell))))
  return table.toString().split('\n').map((line) => line.trimEnd()).join('\n') + '\n'
}

/** "Key: value" lines, aligned, for one record. */
export function fields(pairs: Array<[string, string | number | undefined | null]>): string {
  const width = Math.max(...pairs.map(([k]) => k.length)) + 1
  return pairs.map(([k, v]) => `${(k + ':').padEnd(width + 1)}${v === undefined || v === null || v === '' ? '-' : v}`).join('\n') + '\n'
}

/** Human bytes: 209715200 -> 200Mi. */
export function bytes(value: number | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined
  const units = ['', 'Ki', 'Mi', 'Gi', 'Ti']
  let v = value
  let i = 0
  while (v >= 1024 && i < units.length - 1 && v % 1024 === 0) {
    v /= 1024
    i++
  }
  if (i === 0 && value >= 1024 * 1024) return `${(value / 1024 / 1024).toFixed(1)}Mi`
  return `${v}${units[i]}`
}

/**
 * kubectl-style columns for rows that arrive over time (`-w`): each batch is padded to the
 * widest cell seen so far, so later rows line up with the header unless a cell outgrows it.
 */
export class ColumnStream {
  private widths: number[]
  private headed = false

  constructor(private readonly head: string[]) {
    this.widths = head.map((h) => h.length)
  }

  /** The rows, one line each, after the header the first time. */
  write(rows: Array<Array<string | number | undefined | null>>): string {
    const cells = rows.map((row) => row.map((cell) => (cell === undefined || cell === null || cell === '' ? '-' : String(cell))))
    for (const row of cells) row.forEach((cell, i) => (this.widths[i] = Math.max(this.widths[i] ?? 0, cell.length)))
    const line = (row: string[]) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(this.widths[i]))).join('   ').trimEnd() + '\n'
    const header = this.headed ? '' : line(this.head.map((h) => h.toUpperCase()))
    this.headed = true
    return header + cells.map(line).join('')
  }
}
