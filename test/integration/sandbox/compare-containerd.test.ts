// compare --with against a pod containerd really made (the test node of docs/test-node.md): it
// fills the runtime layer from config.json, explains every difference from the sandbox, and reads
// the sandbox from a snapshot as it does live.
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {podCatalogue} from '../../e2e/node/catalogue.js'
import {tempFolder} from '../../helpers/temp-folder.js'
import {withoutProvenance} from '../../helpers/volatile.js'
import {type TestNode, nodeDown, nodeUp} from '../../e2e/node/node.js'
import {IS_ROOT, cli, ensureBuilt, manifestFile, podYaml, suffix, testCidr} from './helpers.js'

const haveContainerd = existsSync('/usr/bin/containerd') || existsSync('/usr/sbin/containerd')
const run = IS_ROOT && haveContainerd ? describe : describe.skip
const id = suffix()
const namespaces = {apps: `e2e-${id}`, system: `e2e-${id}-system`}
const greedy = podCatalogue(namespaces).find((p) => p.name === 'core-k8s-greedy')!
const sandbox = `ref-greedy-${id}`
// the same pod as the catalogue's, as a manifest for the sandbox
const manifest = podYaml('core-k8s-greedy', namespaces.apps, "    - name: greedy\n      image: busybox\n      command: ['sleep', '10000']\n      resources:\n        requests: {memory: 100Mi}\n        limits: {memory: 200Mi}\n")

interface Row {scope: string; row: string; spec: string | null; runtime: string | null; kernel: string | null; reference?: string | null; differs: boolean; explanation: string | null}
let node: TestNode | undefined
const snapshotDir = join(tempFolder('nd-cmp-snap-'), 'snap')

run('compare against a real containerd pod', () => {
  beforeAll(async () => {
    ensureBuilt()
    node = await nodeUp(namespaces, [greedy])
    const r = await cli(['sandbox', 'create', '-f', manifestFile(manifest), '--name', sandbox, '--pod-cidr', testCidr()])
    if (r.exitCode !== 0) throw new Error(String(r.stderr))
  }, 200_000)

  afterAll(async () => {
    await cli(['sandbox', 'rm', sandbox])
    node?.cri.close()
    if (node) expect(await nodeDown()).toEqual([])
  }, 120_000)

  it('lines up spec, config.json and kernel, and explains each difference from the sandbox', async () => {
    const r = await cli(['compare', 'core-k8s-greedy', '-n', namespaces.apps, '--with', sandbox, '-o', 'json'])
    // answered, with differences: exit 1
    expect(r.exitCode, String(r.stderr)).toBe(1)
    const rows: Row[] = JSON.parse(String(r.stdout)).rows
    const row = (scope: string, name: string) => rows.find((x) => x.scope === scope && x.row === name)!
    // the runtime layer comes from containerd's config.json
    expect(row('greedy', 'command')).toMatchObject({spec: 'sleep 10000', runtime: 'sleep 10000', kernel: 'sleep 10000', reference: 'sleep 10000', differs: false})
    expect(row('greedy', 'memory limit')).toMatchObject({runtime: '209715200', kernel: '209715200', reference: '209715200', differs: false})
    expect(row('pod', 'qos')).toMatchObject({kernel: 'Burstable', reference: 'Burstable', differs: false})
    // the sandbox's own choices are labelled as the sandbox's
    expect(row('greedy', 'no_new_privs')).toMatchObject({spec: '0', runtime: '0', kernel: '0', reference: '1', differs: true})
    expect(row('greedy', 'no_new_privs').explanation).toBe(`no_new_privs is 0; sandbox ${sandbox} has 1; the spec implies 0 too (the kubelet sets it only for allowPrivilegeEscalation: false (here unset)): the difference is the sandbox's own choice`)
    // the test node's bridge CNI against the sandbox's per-pod /32 route
    expect(row('pod', 'network')).toMatchObject({spec: 'bridge cni0', kernel: 'bridge cni0', reference: 'veth /32 route', differs: true})
    const token = row('greedy', 'mount /var/run/secrets/kubernetes.io/serviceaccount')
    expect(token).toMatchObject({kernel: 'ro', reference: '-', differs: true})
    for (const d of rows.filter((x) => x.differs)) expect(d.explanation, `${d.scope} ${d.row}`).toMatch(/\S/)
  })

  it('reads the sandbox from a snapshot as it does live (--with --from)', async () => {
    const live = await cli(['compare', 'core-k8s-greedy', '-n', namespaces.apps, '--with', sandbox, '-o', 'json'])
    const snap = await cli(['snapshot', '-o', snapshotDir], {timeout: 180_000})
    expect(snap.exitCode, String(snap.stderr)).toBe(0)
    const replay = await cli(['compare', 'core-k8s-greedy', '-n', namespaces.apps, '--with', sandbox, '--from', snapshotDir, '-o', 'json'])
    expect(replay.exitCode, String(replay.stderr)).toBe(1)
    expect(withoutProvenance(JSON.parse(String(replay.stdout)))).toEqual(withoutProvenance(JSON.parse(String(live.stdout))))
    const missing = await cli(['compare', 'core-k8s-greedy', '-n', namespaces.apps, '--with', 'no-such-sandbox', '--from', snapshotDir])
    expect(missing.exitCode).toBe(1)
    expect(String(missing.stderr).trim()).toBe(`error: no sandbox named no-such-sandbox on snapshot ${snapshotDir} (/run/nodedoc/sandboxes/no-such-sandbox/state.json is absent; nodedoc sandbox ls)`)
  }, 240_000)

  it('compares the real pod with its spec: no differences', async () => {
    const r = await cli(['compare', 'core-k8s-greedy', '-n', namespaces.apps, '--spec', manifestFile(manifest)])
    expect(r.exitCode, String(r.stderr)).toBe(0)
    expect(String(r.stdout)).toMatch(/^e2e-\w+\/core-k8s-greedy against spec .*: no\s+differences\n/)
  })
})
