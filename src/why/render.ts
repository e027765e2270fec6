import chalk from 'chalk'
import type {DocumentShape} from '../output/output.js'
import {printable} from '../output/escape.js'
import type {LinkResult, LinkStatus, WhyReport} from './types.js'

const COLOUR: Record<LinkStatus, (s: string) => string> = {ok: chalk.green, BROKEN: chalk.red.bold, unknown: chalk.gray}

/** One line per link; evidence and fix under each BROKEN link (under every link with wide); the verdict last. */
export function renderWhy(report: WhyReport, wide: boolean): string {
  const width = Math.max(...report.links.map((l) => l.name.length))
  const indent = ' '.repeat(width + 11)
  const lines = [`why: ${printable(report.symptom)}`, '']
  for (const link of report.links) {
    lines.push(`${COLOUR[link.status](link.status.padEnd(7))}  ${link.name.padEnd(width)}  ${printable(link.detail)}`)
    if (wide || link.status === 'BROKEN') {
      for (const e of link.evidence) lines.push(`${indent}${chalk.dim('·')} ${printable(e)}`)
      if (link.fix) lines.push(`${indent}fix: ${printable(link.fix)}`)
    }
  }
  lines.push('')
  const v = report.verdict
  if (v.link) lines.push(`${chalk.red.bold('verdict:')} ${v.link} is broken: ${printable(v.reason)}`, `fix: ${printable(v.fix ?? '')}`)
  else lines.push(`${chalk.green.bold('verdict:')} ${printable(v.reason)}`)
  return lines.join('\n') + '\n'
}

/** 0 when the chain holds, 1 when a link is broken. */
export function exitCodeOf(report: WhyReport): number {
  return report.verdict.link ? 1 : 0
}

/** `why -o json`: kind Why; its records (--sort-by, -o name) are the links. */
export const WHY_DOCUMENT: DocumentShape<WhyReport> = {
  kind: 'Why',
  items: (r) => r.links,
  withItems: (r, links) => ({...r, links: links as LinkResult[]}),
  name: (l: LinkResult) => `link/${l.name}`,
}
