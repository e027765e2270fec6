// doctor's lines drawn from the example snapshot's checks.
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {runChecks} from '../../../src/doctor/doctor.js'
import {CHECKS} from '../../../src/doctor/registry.js'
import {renderDoctor} from '../../../src/doctor/render.js'
import {SnapshotHost} from '../../../src/host/snapshot.js'
import {REPO} from '../../e2e/node/cli.js'
import {plain} from '../../helpers/table.js'

const results = await runChecks(await SnapshotHost.open(join(REPO, 'examples/containerd-node')), CHECKS)

describe('doctor lines on the example snapshot', () => {
  it('one line per check: status, id, what was seen; why and fix under WARN and FAIL only (all with wide)', () => {
    expect(new Set(results.map((r) => r.status)).size).toBeGreaterThan(1)
    for (const wide of [false, true]) {
      const lines = plain(renderDoctor(results, wide)).split('\n')
      const heads = lines.filter((l) => /^(PASS|WARN|FAIL|SKIP) /.test(l))
      expect(heads.map((l) => l.split(/\s+/).slice(0, 2))).toEqual(results.map((r) => [r.status, r.id]))
      for (const [i, r] of results.entries()) {
        expect(heads[i].endsWith(r.seen.split('\n')[0]), r.id).toBe(true)
        const at = lines.indexOf(heads[i])
        const explained = lines[at + 1]?.trim() === `why: ${r.why}`
        expect(explained, r.id).toBe(wide || r.status === 'WARN' || r.status === 'FAIL')
      }
    }
  })

  it('ends with the count of each status', () => {
    const n = (s: string) => results.filter((r) => r.status === s).length
    const last = plain(renderDoctor(results, false)).trimEnd().split('\n').at(-1)
    expect(last).toBe(`${n('PASS')} passed, ${n('WARN')} warning${n('WARN') === 1 ? '' : 's'}, ${n('FAIL')} failed, ${n('SKIP')} skipped`)
  })
})
