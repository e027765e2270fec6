// Reads back what src/output/table.ts `columns` prints (upper-case headers, cells aligned under
// them), so a render test compares rows with the records they came from, cell by cell.

const ANSI = /\x1b\[[0-9;]*m/g

export function plain(text: string): string {
  return text.replace(ANSI, '')
}

/**
 * The rows of the first table whose header starts with `first` (e.g. 'PID'), as records keyed
 * by the lower-case header. Cells span from their header's column to the next one.
 */
export function readColumns(text: string, first: string): Array<Record<string, string>> {
  const lines = plain(text).split('\n')
  const at = lines.findIndex((l) => l.startsWith(first + ' ') || l === first)
  if (at < 0) throw new Error(`no table with a ${first} column in:\n${text}`)
  const header = lines[at]
  const starts = [...header.matchAll(/\S+(?: \S+)*/g)].map((m) => ({name: m[0].toLowerCase(), start: m.index}))
  const rows: Array<Record<string, string>> = []
  for (const line of lines.slice(at + 1)) {
    if (line.trim() === '') break
    rows.push(Object.fromEntries(starts.map((c, i) => [c.name, line.slice(c.start, starts[i + 1]?.start).trim()])))
  }
  return rows
}

/** The "Key: value" lines `fields` prints, as a record. */
export function readFields(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of plain(text).split('\n')) {
    const m = /^([A-Z][\w ]*):\s+(.*)$/.exec(line)
    if (m) out[m[1]] = m[2]
    else if (line.trim() === '') break
  }
  return out
}
