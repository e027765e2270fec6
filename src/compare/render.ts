import {escapeControl} from '../output/escape.js'
import type {DocumentShape} from '../output/output.js'
import {columns} from '../output/table.js'
import {type CompareResult, shown} from './rows.js'

/**
 * The rows that differ and every row but equal mounts (wide: all), under a line per scope ("pod",
 * "container NAME"; a mount row is its destination), then one sentence per difference. The
 * output layer fits the table to 80 columns and folds the sentences.
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
      body.push([' ', scope === 'pod' ? 'pod' : `container ${scope}`, ...blank].map((cell) => escapeControl(cell)))
    }
    const name = r.row.startsWith('mount ') ? r.row.slice(6) : r.row
    body.push([r.differs ? '!' : ' ', `  ${name}`, shown(r.row, r.spec), shown(r.row, r.runtime), shown(r.row, r.kernel), ...(withRef ? [shown(r.row, r.reference ?? null)] : [])].map((cell) => escapeControl(cell)))
  }
  const pod = `${result.pod.namespace ?? '?'}/${result.pod.name ?? result.pod.uid}`
  const count = result.differences === 0 ? 'no differences' : `${result.differences} difference${result.differences === 1 ? '' : 's'}`
  const notes = result.rows.filter((r) => r.differs).map((r) => escapeControl(`! ${r.scope}: ${r.explanation}`) + '\n').join('')
  return `${escapeControl(`${pod} against ${result.against}: ${count}`)}\n\n${columns(head, body)}${notes ? '\n' + notes : ''}`
}

/** `compare -o json`: one Comparison; its records are the rows. */
export const COMPARISON: DocumentShape<CompareResult> = {
  kind: 'Comparison',
  items: (r) => r.rows,
  withItems: (r, rows) => ({...r, rows: rows as CompareResult['rows']}),
}
