import chalk from 'chalk'
import type {CheckResult, CheckStatus} from './check.js'
import type {DocumentShape} from '../output/output.js'

const COLOUR: Record<CheckStatus, (s: string) => string> = {PASS: chalk.green, WARN: chalk.yellow, FAIL: chalk.red, SKIP: chalk.gray}

/** One line per check: STATUS id: what was seen; then why and the fix, indented, for WARN/FAIL (and all with wide). */
export function renderDoctor(results: CheckResult[], wide: boolean): string {
  const width = Math.max(...results.map((r) => r.id.length))
  const lines: string[] = []
  for (const r of results) {
    lines.push(`${COLOUR[r.status](r.status.padEnd(4))} ${r.id.padEnd(width)}  ${r.seen}`)
    if (wide || r.status === 'WARN' || r.status === 'FAIL') {
      lines.push(`${' '.repeat(width + 7)}why: ${r.why}`)
      if (r.fix) lines.push(`${' '.repeat(width + 7)}fix: ${r.fix}`)
    }
  }
  const count = (s: CheckStatus) => results.filter((r) => r.status === s).length
  const warnings = count('WARN')
  lines.push('', `${count('PASS')} passed, ${warnings} warning${warnings === 1 ? '' : 's'}, ${count('FAIL')} failed, ${count('SKIP')} skipped`)
  return lines.join('\n') + '\n'
}

/** `doctor -o json`: a CheckList of items; `-o name`: check/ID. */
export const CHECK_LIST: DocumentShape<CheckResult[]> = {kind: 'CheckList', name: (c: CheckResult) => `check/${c.id}`}
