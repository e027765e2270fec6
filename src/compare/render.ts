import {columns} from '../output/table.js'
import type {CompareResult} from './rows.js'
import type {DocumentShape} from '../output/output.js'

/** All rows (wide) or the differing ones, then one sentence per difference. */
export function compareTable(result: CompareResult, wide: boolean): string {
  const withRef = result.rows.some((r) => 'reference' in r)
  const shown = wide ? result.rows : result.rows.filter((r) => r.differs || !r.row.startsWith('mount '))
  const head = ['diff', 'scope', 'row', 'spec', 'runtime', 'kernel', ...(withRef ? ['sandbox'] : [])]
  const body = shown.map((r) => [r.differs ? '!' : '', r.scope, r.row, r.spec, r.runtime, r.kernel, ...(withRef ? [r.reference] : [])])
  const title = `${result.pod.namespace ?? '?'}/${result.pod.name ?? result.pod.uid} against ${result.against}: ${result.differences === 0 ? 'no differences' : `${result.differences} difference${result.differences === 1 ? '' : 's'}`}\n\n`
  const notes = result.rows.filter((r) => r.differs).map((r) => `! ${r.scope}: ${r.explanation}\n`).join('')
  return title + columns(head, body) + (notes ? '\n' + notes : '')
}

/** `compare -o json`: one Comparison; its records are the rows. */
export const COMPARISON: DocumentShape<CompareResult> = {
  kind: 'Comparison',
  items: (r) => r.rows,
  withItems: (r, rows) => ({...r, rows: rows as CompareResult['rows']}),
}
