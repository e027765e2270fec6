// The pod log index on the example snapshot: the names-only index ps joins on says what the
// full one says of pods and links, without the files and link targets.
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {SnapshotHost} from '../../../src/host/snapshot.js'
import {readLogIndex, readLogNames} from '../../../src/pods/log-files.js'
import {REPO} from '../../e2e/node/cli.js'

describe('readLogNames', () => {
  it('names the pods and links readLogIndex finds', async () => {
    const host = await SnapshotHost.open(join(REPO, 'examples/containerd-node'))
    const full = await readLogIndex(host)
    const names = await readLogNames(host)
    expect(full.pods.length).toBeGreaterThan(2)
    expect(full.links.length).toBeGreaterThan(2)
    expect(names.pods).toEqual(full.pods.map((p) => ({...p, containers: []})))
    expect(names.links).toEqual(full.links.map((l) => ({...l, target: null})))
  })
})
