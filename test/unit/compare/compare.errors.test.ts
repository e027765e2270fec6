// What compare answers when it cannot compare: one line, exit 2 for a usage error (no --spec nor
// --with, a manifest that cannot be read or parsed), 1 for a pod or sandbox that is not there.
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {CompareError, comparePod} from '../../../src/compare/compare.js'
import {SnapshotHost} from '../../../src/host/snapshot.js'
import {REPO} from '../../e2e/node/cli.js'

const host = await SnapshotHost.open(join(REPO, 'examples/containerd-node'))
const fixture = (name: string) => join(REPO, 'test/fixtures/sandbox', name)

async function refusal(opts: Parameters<typeof comparePod>[1]): Promise<{message: string; exitCode: number}> {
  const error = await comparePod(host, opts).then(() => undefined, (e: unknown) => e)
  expect(error).toBeInstanceOf(CompareError)
  const {message, exitCode} = error as CompareError
  expect(message).not.toContain('\n')
  return {message, exitCode}
}

describe('compare refuses in one line', () => {
  it('exit 2 without --spec or --with', async () => {
    expect(await refusal({pod: 'core-k8s', namespace: 'default'})).toEqual({message: 'give --with SANDBOX or --spec pod.yaml', exitCode: 2})
  })

  it('exit 2 for a manifest that is absent or does not parse, naming the file', async () => {
    expect(await refusal({pod: 'core-k8s', namespace: 'default', specPath: 'no-such.yaml', cwd: REPO})).toEqual({message: 'no-such.yaml: cannot read the manifest', exitCode: 2})
    const broken = await refusal({pod: 'core-k8s', namespace: 'default', specPath: fixture('broken-indent.yaml')})
    expect(broken.exitCode).toBe(2)
    expect(broken.message).toMatch(/^\/.*broken-indent\.yaml:\d+:\d+/)
  })

  it('exit 1 for a pod the node does not run, or a sandbox it does not hold', async () => {
    expect(await refusal({pod: 'no-such-pod', namespace: 'default', specPath: fixture('core-k8s.yaml')})).toEqual({message: expect.stringMatching(/^pod default\/no-such-pod not found on snapshot /), exitCode: 1})
    expect(await refusal({pod: 'core-k8s', namespace: 'default', withSandbox: 'no-such-sandbox'})).toEqual({message: expect.stringMatching(/^no sandbox named no-such-sandbox on snapshot /), exitCode: 1})
  })
})
