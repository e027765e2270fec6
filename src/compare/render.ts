import {columns} from '../render/table.js'
import {type CompareResult, shown} from './rows.js'

const WIDTH = 80

/** Pod-controlled text (commands, mount paths) on a terminal: control characters as \xNN. */
function visible(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
}

/** Cuts the middle out of a cell too wide for its column, so both ends of a path stay readable. */
function squeeze(text: string, width: number): string {
  if (text.length <= width) return text
  const head = Math.ceil((width - 1) / 2)
  return `${text.slice(0, head)}…${text.slice(text.length - (width - 1 - head))}`
}

/** Caps the widest columns at one level (never below 12), the highest at which the table fits. */
function fit(head: string[], body: string[][], width: number): string[][] {
  const natural = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)))
  const total = (level: number) => natural.reduce((sum, w) => sum + Math.min(w, level), 0) + 3 * (natural.length - 1)
  let level = Math.max(...natural)
  while (level > 12 && total(level) > width) level--
  return body.map((r) => r.map((cell, i) => squeeze(cell, Math.min(natural[i], level))))
}

/** Wraps a sentence at spaces, later lines indented under the first. */
function wrap(text: string, width: number, indent: string): string {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line)
      line = indent + word
    } else line = line ? `${line} ${word}` : word
  }
  lines.push(line)
  return lines.join('\n') + '\n'
}

/**
 * The rows that differ and every row but equal mounts (wide: all), under a line per scope ("pod",
 * "container NAME"; a mount row is its destination), then one sentence per difference.
 */
export function compareTable(result: CompareResult, wide: boolean): string {
  const withRef = result.rows.some((r) => 'reference' in r)
  const shownRows = wide ? result.rows : result.rows.filter((r) => r.differs || !r.row.startsWith('mount '))
  const head = ['', 'row', 'spec', 'runtime', 'kernel', ...(withRef ? ['sandbox'] : [])]
  const blank = head.slice(2).map(() => ' ')
  const body: string[][] = []
  let scope: string | null = null
  for (const r of shownRows) {
    if (r.scope !== scope) {
      scope = r.scope
      body.push([' ', scope === 'pod' ? 'pod' : `container ${scope}`, ...blank].map(visible))
    }
    const name = r.row.startsWith('mount ') ? r.row.slice(6) : r.row
    body.push([r.differs ? '!' : ' ', `  ${name}`, shown(r.row, r.spec), shown(r.row, r.runtime), shown(r.row, r.kernel), ...(withRef ? [shown(r.row, r.reference ?? null)] : [])].map(visible))
  }
  const pod = `${result.pod.namespace ?? '?'}/${result.pod.name ?? result.pod.uid}`
  const count = result.differences === 0 ? 'no differences' : `${result.differences} difference${result.differences === 1 ? '' : 's'}`
  const title = wrap(visible(`${pod} against ${result.against}: ${count}`), WIDTH, '  ')
  const notes = result.rows.filter((r) => r.differs).map((r) => wrap(visible(`! ${r.scope}: ${r.explanation}`), WIDTH, '    ')).join('')
  return `${title}\n${columns(head, fit(head, body, WIDTH))}${notes ? '\n' + notes : ''}`
}
