// The compare table of a pod of the example snapshot against a spec, row by row.
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {comparePod} from '../../../src/compare/compare.js'
import {compareTable} from '../../../src/compare/render.js'
import {SnapshotHost} from '../../../src/host/snapshot.js'
import {REPO} from '../../e2e/node/cli.js'
import {plain} from '../../helpers/table.js'

const host = await SnapshotHost.open(join(REPO, 'examples/containerd-node'))
const specPath = join(REPO, 'test/fixtures/sandbox/core-k8s.yaml')
const result = await comparePod(host, {pod: 'core-k8s', namespace: 'default', specPath})
const cell = (v: string | null | undefined) => (v === null || v === undefined || v === '' ? '-' : v)

describe('compare table on the example snapshot', () => {
  it('titles the pod, what it is compared with and how many rows differ', () => {
    expect(result.differences).toBeGreaterThan(0)
    expect(plain(compareTable(result, false)).split('\n')[0]).toBe(`default/core-k8s against spec ${specPath}: ${result.differences} difference${result.differences === 1 ? '' : 's'}`)
  })

  it('wide shows every row under its scope, marked ! where it differs; the narrow table leaves out mounts that agree', () => {
    // a row reads "! ROW SPEC RUNTIME KERNEL" (or with a blank mark) under its scope's heading
    const line = (r: (typeof result.rows)[number]) => `${r.differs ? '!' : ''} ${r.row} ${cell(r.spec)} ${cell(r.runtime)} ${cell(r.kernel)}`.replace(/\s+/g, ' ').trim()
    const lines = (wide: boolean) => plain(compareTable(result, wide)).split('\n').map((l) => l.replace(/\s+/g, ' ').trim())
    const wide = lines(true)
    for (const r of result.rows) {
      expect(wide, `${r.scope} ${r.row}`).toContain(line(r))
      const heading = wide.findIndex((l) => l === r.scope || l === `container ${r.scope}`)
      expect(heading, r.scope).toBeGreaterThanOrEqual(0)
      expect(wide.indexOf(line(r), heading)).toBeGreaterThan(heading)
    }
    const narrow = lines(false)
    for (const r of result.rows) expect(narrow.includes(line(r)), `${r.scope} ${r.row}`).toBe(r.differs || !r.row.startsWith('mount '))
  })

  it('explains each difference in one line after the table', () => {
    const text = plain(compareTable(result, false))
    for (const r of result.rows.filter((x) => x.differs)) expect(text).toContain(`! ${r.scope}: ${r.explanation}\n`)
  })
})
