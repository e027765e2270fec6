// The compare table of a pod of the example snapshot against a spec, row by row.
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {comparePod} from '../../../src/compare/compare.js'
import {compareTable} from '../../../src/compare/render.js'
import {SnapshotHost} from '../../../src/host/snapshot.js'
import {REPO} from '../../e2e/node/cli.js'
import {plain, readColumns} from '../../helpers/table.js'

const host = await SnapshotHost.open(join(REPO, 'examples/containerd-node'))
const specPath = join(REPO, 'test/fixtures/sandbox/core-k8s.yaml')
const result = await comparePod(host, {pod: 'core-k8s', namespace: 'default', specPath})
const cell = (v: string | null | undefined) => (v === null || v === undefined || v === '' ? '-' : v)

describe('compare table on the example snapshot', () => {
  it('titles the pod, what it is compared with and how many rows differ', () => {
    expect(result.differences).toBeGreaterThan(0)
    expect(plain(compareTable(result, false)).split('\n')[0]).toBe(`default/core-k8s against spec ${specPath}: ${result.differences} difference${result.differences === 1 ? '' : 's'}`)
  })

  it('wide shows every row; the narrow table leaves out mounts that agree', () => {
    const row = (r: (typeof result.rows)[number]) => [r.differs ? '!' : '-', r.scope, r.row, cell(r.spec), cell(r.runtime), cell(r.kernel)]
    const read = (wide: boolean) => readColumns(compareTable(result, wide), 'DIFF').map((r) => [r.diff, r.scope, r.row, r.spec, r.runtime, r.kernel])
    expect(read(true)).toEqual(result.rows.map(row))
    expect(read(false)).toEqual(result.rows.filter((r) => r.differs || !r.row.startsWith('mount ')).map(row))
  })

  it('explains each difference in one line after the table', () => {
    const text = plain(compareTable(result, false))
    for (const r of result.rows.filter((x) => x.differs)) expect(text).toContain(`! ${r.scope}: ${r.explanation}\n`)
  })
})
