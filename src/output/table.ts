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
