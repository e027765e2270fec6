// why pod drawn from the example snapshot (examples/containerd-node): one line per link, in the
// chain's order, the evidence under the broken ones (under all with wide), the verdict last.
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {SnapshotHost} from '../../../src/host/snapshot.js'
import {gatherPods} from '../../../src/pods/pods.js'
import {whyPod} from '../../../src/why/pod.js'
import {renderWhy} from '../../../src/why/render.js'
import {REPO} from '../../e2e/node/cli.js'
import {plain} from '../../helpers/table.js'

const host = await SnapshotHost.open(join(REPO, 'examples/containerd-node'))
const pods = await gatherPods(host)

describe('why pod on the example snapshot', () => {
  it('has pods to explain', () => expect(pods.length).toBeGreaterThan(2))

  it.each(pods.map((p) => [`${p.namespace}/${p.name}`, p] as const))('%s: a line per link, the evidence where it is asked for, the verdict', async (_, pod) => {
    const report = await whyPod(host, pod)
    expect(report.links.length).toBeGreaterThan(0)
    for (const wide of [false, true]) {
      const lines = plain(renderWhy(report, wide)).split('\n')
      expect(lines[0]).toBe(`why: ${report.symptom}`)
      const linkLines = lines.filter((l) => /^(ok|BROKEN|unknown)\s/.test(l))
      expect(linkLines.map((l) => l.split(/\s{2,}/).slice(0, 2))).toEqual(report.links.map((l) => [l.status, l.name]))
      for (const [i, link] of report.links.entries()) {
        expect(linkLines[i]).toContain(link.detail)
        const shown = wide || link.status === 'BROKEN'
        for (const e of link.evidence) expect(lines.some((l) => l.trim() === `· ${e}`), `${link.name} evidence "${e}"`).toBe(shown)
      }
      const verdict = lines.find((l) => l.startsWith('verdict: '))
      expect(verdict).toBe(report.verdict.link ? `verdict: ${report.verdict.link} is broken: ${report.verdict.reason}` : `verdict: ${report.verdict.reason}`)
    }
  })
})
