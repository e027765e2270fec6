// `compare --spec` against pods containerd really made from their manifests (the test node of
// docs/test-node.md): a healthy pod gives no difference; each change made for real to a running
// pod is named once, with its reason; securityContext fields give the rows the kernel shows.
import {randomBytes} from 'node:crypto'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {Ajv} from 'ajv'
import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {stringify} from 'yaml'
import type {CompareResult, CompareRow} from '../../src/compare/rows.js'
import {tempFolder} from '../helpers/temp-folder.js'
import {podCatalogue} from './node/catalogue.js'
import {REPO, nodedoc} from './node/cli.js'
import type {ContainerSpec, PodSpec} from './node/kubelet.js'
import {CGROUP_ROOT} from './node/kubelet.js'
import {type TestNode, nodeDown, nodeUp} from './node/node.js'
import {CONTAINERD_STATE} from './node/layout.js'
import {oomScoreAdj} from './node/resources.js'

const suffix = randomBytes(3).toString('hex')
const namespaces = {apps: `e2e-${suffix}`, system: `e2e-${suffix}-system`}
const catalogue = podCatalogue(namespaces)
const SLEEP = ['sleep', '10000']
const ns = namespaces.apps
const burstable = {requests: {cpu: '100m', memory: '32Mi'}, limits: {cpu: '200m', memory: '64Mi'}}
const app = (extra: Partial<ContainerSpec> = {}): ContainerSpec => ({name: 'app', command: SLEEP, ...extra})

/** Pods whose manifests set one securityContext field or terminationMessagePath each. */
const security: PodSpec[] = [
  {name: 'cmp-nnp', namespace: ns, containers: [app({securityContext: {allowPrivilegeEscalation: false}})]},
  {name: 'cmp-seccomp', namespace: ns, securityContext: {seccompProfile: {type: 'RuntimeDefault'}}, containers: [app()]},
  {name: 'cmp-termination', namespace: ns, containers: [app({terminationMessagePath: '/tmp/termination-message'})]},
  {name: 'cmp-user', namespace: ns, containers: [app({securityContext: {runAsUser: 1000}})]},
]
/** Pods the tests change for real, one change each. */
const changed: PodSpec[] = [
  {name: 'cmp-shares', namespace: ns, containers: [app({resources: burstable})]},
  {name: 'cmp-memory', namespace: ns, containers: [app({resources: burstable})]},
  {name: 'cmp-oom', namespace: ns, containers: [app({resources: burstable})]},
  {name: 'cmp-volume', namespace: ns, emptyDirs: ['cache'], containers: [app({volumeMounts: [{name: 'cache', mountPath: '/cache'}]})]},
  // as a runtime started with the wrong cgroup parent would place it: the pod's own values stay right
  {name: 'cmp-qos-parent', namespace: ns, cgroupParentQos: 'BestEffort', containers: [app({resources: burstable})]},
]

const validate = new Ajv({allErrors: true}).compile(JSON.parse(readFileSync(join(REPO, 'docs/schema/Comparison.schema.json'), 'utf8')))
let node: TestNode
const dir = tempFolder('nd-compare-')

/** The manifest a user applies for a pod the test node makes: what compare is given. */
function manifest(spec: PodSpec, drop: (c: ContainerSpec) => ContainerSpec = (c) => c): string {
  const doc = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {name: spec.name, namespace: spec.namespace},
    spec: {
      ...(spec.hostNetwork ? {hostNetwork: true} : {}),
      ...(spec.securityContext ? {securityContext: spec.securityContext} : {}),
      ...(spec.emptyDirs ? {volumes: spec.emptyDirs.map((name) => ({name, emptyDir: {}}))} : {}),
      containers: spec.containers.map(drop).map((c) => ({image: 'busybox', ...c})),
    },
  }
  const file = join(dir, `${spec.name}-${randomBytes(2).toString('hex')}.yaml`)
  writeFileSync(file, stringify(doc))
  return file
}

async function compare(spec: PodSpec, file = manifest(spec)): Promise<CompareResult & {apiVersion: string; kind: string}> {
  const r = await nodedoc(['compare', spec.name, '-n', spec.namespace, '--spec', file, '-o', 'json'])
  const result = JSON.parse(r.stdout)
  // answered: 0 when the pod is as its spec implies, 1 (like doctor's FAIL) when it is not
  expect(r.exitCode, r.stderr).toBe(result.differences === 0 ? 0 : 1)
  return result
}

const row = (result: CompareResult, scope: string, name: string) => result.rows.find((r) => r.scope === scope && r.row === name)
const differing = (result: CompareResult) => result.rows.filter((r) => r.differs).map((r: CompareRow) => ({scope: r.scope, row: r.row, explanation: r.explanation}))

function containerOf(name: string) {
  const pod = node.pods.find((p) => p.name === name)!
  const id = pod.containers[0].id!
  return {pod, id, pid: readFileSync(`${CONTAINERD_STATE}/io.containerd.runtime.v2.task/k8s.io/${id}/init.pid`, 'utf8').trim()}
}

beforeAll(async () => {
  node = await nodeUp(namespaces, [...catalogue, ...security, ...changed])
}, 300_000)

afterAll(async () => {
  node?.cri.close()
  expect(await nodeDown()).toEqual([])
}, 120_000)

describe('a pod the kubelet made, against its manifest', () => {
  it.each(catalogue.map((s) => [s.name, s] as const))('%s: no differences, every row differs: false', async (_name, spec) => {
    const result = await compare(spec)
    expect(result).toMatchObject({apiVersion: 'nodedoc/v1', kind: 'Comparison', differences: 0})
    expect(validate(result), JSON.stringify(validate.errors)).toBe(true)
    expect(differing(result)).toEqual([])
    expect(result.rows.every((r) => r.differs === false)).toBe(true)
    expect(result.rows.length).toBeGreaterThan(30)
    // the layers really were read: the runtime's config and the kernel both answer
    expect(row(result, spec.containers[0].name, 'memory limit')).toMatchObject({runtime: expect.any(String), kernel: expect.any(String)})
    expect(row(result, 'pod', 'network')!.kernel).toBe(spec.hostNetwork ? 'host' : 'bridge cni0')
  })

  it('the table says so, in 80 columns (-o wide keeps every cell whole), sizes humanized', async () => {
    const greedy = catalogue.find((s) => s.name === 'core-k8s-greedy')!
    for (const wide of [[], ['-o', 'wide']]) {
      const r = await nodedoc(['compare', greedy.name, '-n', ns, '--spec', manifest(greedy), ...wide])
      expect(r.exitCode, r.stderr).toBe(0)
      expect(r.stdout.replace(/\s+/g, ' ')).toContain('no differences')
      if (wide.length) expect(r.stdout).toMatch(/^ {6}\/var\/run\/secrets\/kubernetes.io\/serviceaccount\s+ro\s+ro\s+ro$/m)
      else for (const line of r.stdout.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80)
      expect(r.stdout).toMatch(/^ {6}memory limit\s+200Mi\s+200Mi\s+200Mi$/m)
      expect(r.stdout).not.toContain('209715200')
    }
  })

  it('a manifest as the API server returns it (token volume listed, defaults filled in) gives no differences either', async () => {
    const greedy = catalogue.find((s) => s.name === 'core-k8s-greedy')!
    const file = join(dir, 'greedy-from-api.yaml')
    writeFileSync(file, stringify({
      apiVersion: 'v1', kind: 'Pod', metadata: {name: greedy.name, namespace: ns, uid: node.pods.find((p) => p.name === greedy.name)!.uid},
      spec: {
        automountServiceAccountToken: true,
        securityContext: {},
        volumes: [{name: 'kube-api-access-q7x2k', projected: {defaultMode: 420, sources: [{serviceAccountToken: {expirationSeconds: 3607, path: 'token'}}]}}],
        containers: greedy.containers.map((c) => ({
          ...c, image: 'busybox', imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File',
          volumeMounts: [{name: 'kube-api-access-q7x2k', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true}],
        })),
      },
    }))
    const result = await compare(greedy, file)
    expect(differing(result)).toEqual([])
    expect(row(result, 'greedy', 'mount /var/run/secrets/kubernetes.io/serviceaccount')).toMatchObject({spec: 'ro', runtime: 'ro', kernel: 'ro', basis: 'volume kube-api-access-q7x2k (projected): the kubelet mounts API data read-only'})
  })
})

describe('a change made for real to a running pod is named once', () => {
  const only = async (name: string) => differing(await compare(changed.find((s) => s.name === name)!))

  it("a container's cpu.shares rewritten in its cgroup", async () => {
    const {pod, id} = containerOf('cmp-shares')
    writeFileSync(join(CGROUP_ROOT, 'cpu', pod.cgroupParent, id, 'cpu.shares'), '512')
    expect(await only('cmp-shares')).toEqual([{scope: 'app', row: 'cpu.shares', explanation: 'cpu.shares is 512, expected 102: max(2, cpu request in millicores * 1024 / 1000)'}])
  })

  it("a container's memory limit rewritten", async () => {
    const {pod, id} = containerOf('cmp-memory')
    writeFileSync(join(CGROUP_ROOT, 'memory', pod.cgroupParent, id, 'memory.limit_in_bytes'), String(48 * 2 ** 20))
    expect(await only('cmp-memory')).toEqual([{scope: 'app', row: 'memory limit', explanation: 'memory limit is 48Mi, expected 64Mi: resources.limits.memory'}])
    const table = await nodedoc(['compare', 'cmp-memory', '-n', ns, '--spec', manifest(changed[1])])
    expect(table.exitCode).toBe(1)
    expect(table.stdout).toMatch(/^!\s+memory limit\s+64Mi\s+64Mi\s+48Mi$/m)
    expect(table.stdout).toMatch(/^! app: memory limit is 48Mi, expected 64Mi: resources.limits.memory$/m)
  })

  it('oom_score_adj rewritten (upwards: this node cannot set a negative one)', async () => {
    const {pid} = containerOf('cmp-oom')
    const memory = Number(/MemTotal:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'))![1]) * 1024
    const expected = oomScoreAdj('Burstable', 32 * 2 ** 20, memory)
    expect(readFileSync(`/proc/${pid}/oom_score_adj`, 'utf8').trim()).toBe(String(expected))
    writeFileSync(`/proc/${pid}/oom_score_adj`, '500')
    expect(await only('cmp-oom')).toEqual([{scope: 'app', row: 'oom_score_adj', explanation: `oom_score_adj is 500, expected ${expected}: Burstable: 1000 - 1000 * memory request / node memory`}])
  })

  it('a volume unmounted inside the container', async () => {
    const {pid} = containerOf('cmp-volume')
    await execa('nsenter', ['--target', pid, '--mount', '--', 'umount', '/cache'])
    expect(await only('cmp-volume')).toEqual([{scope: 'app', row: 'mount /cache', explanation: '/cache is not mounted; expected rw: volume cache (emptyDir)'}])
  })

  it('a pod cgroup under the wrong QoS parent', async () => {
    expect(node.pods.find((p) => p.name === 'cmp-qos-parent')!.cgroupParent).toMatch(/^\/kubepods\/besteffort\/pod/)
    expect(await only('cmp-qos-parent')).toEqual([{
      scope: 'pod', row: 'qos',
      explanation: 'the pod cgroup sits under the BestEffort parent, expected Burstable: requests and limits: Guaranteed when every container has limits = requests for cpu and memory, BestEffort when none has any',
    }])
  })
})

describe('securityContext fields give the rows the real pod shows', () => {
  const spec = (name: string) => security.find((s) => s.name === name)!
  const plain = (c: ContainerSpec): ContainerSpec => ({name: c.name, command: c.command})

  it('allowPrivilegeEscalation: false -> no_new_privs 1; without it the kubelet asks for 0', async () => {
    const result = await compare(spec('cmp-nnp'))
    expect(differing(result)).toEqual([])
    expect(row(result, 'app', 'no_new_privs')).toMatchObject({spec: '1', runtime: '1', kernel: '1', basis: 'allowPrivilegeEscalation: false'})
    expect(row(result, 'app', 'seccomp')).toMatchObject({spec: '0', runtime: '0', kernel: '0'})
    expect(differing(await compare(spec('cmp-nnp'), manifest(spec('cmp-nnp'), plain)))).toEqual([
      {scope: 'app', row: 'no_new_privs', explanation: 'no_new_privs is 1, expected 0: the kubelet sets it only for allowPrivilegeEscalation: false (here unset)'},
    ])
  })

  it('seccompProfile RuntimeDefault (pod level) -> seccomp filter 2, no_new_privs still 0', async () => {
    const result = await compare(spec('cmp-seccomp'))
    expect(differing(result)).toEqual([])
    expect(row(result, 'app', 'seccomp')).toMatchObject({spec: '2', runtime: '2', kernel: '2', basis: "the pod's seccompProfile is RuntimeDefault (a filter: mode 2)"})
    expect(row(result, 'app', 'no_new_privs')).toMatchObject({spec: '0', runtime: '0', kernel: '0'})
    const withoutProfile = join(dir, 'seccomp-plain.yaml')
    writeFileSync(withoutProfile, stringify({apiVersion: 'v1', kind: 'Pod', metadata: {name: 'cmp-seccomp', namespace: ns}, spec: {containers: [{name: 'app', image: 'busybox', command: SLEEP}]}}))
    expect(differing(await compare(spec('cmp-seccomp'), withoutProfile))).toEqual([
      // no kubelet runs on the test node: nodedoc says how it took --seccomp-default
      {scope: 'app', row: 'seccomp', explanation: 'seccomp is 2, expected 0: no seccompProfile; no kubelet process seen, so --seccomp-default is taken as off (no filter)'},
    ])
  })

  it('terminationMessagePath changed -> the file is mounted there, not at /dev/termination-log', async () => {
    const result = await compare(spec('cmp-termination'))
    expect(differing(result)).toEqual([])
    expect(row(result, 'app', 'mount /tmp/termination-message')).toMatchObject({spec: 'rw', runtime: 'rw', kernel: 'rw'})
    expect(row(result, 'app', 'mount /dev/termination-log')).toBeUndefined()
    expect(differing(await compare(spec('cmp-termination'), manifest(spec('cmp-termination'), plain)))).toEqual([
      {scope: 'app', row: 'mount /dev/termination-log', explanation: "/dev/termination-log is not mounted; expected rw: the kubelet's termination-message file (terminationMessagePath, default)"},
      {scope: 'app', row: 'mount /tmp/termination-message', explanation: "/tmp/termination-message is mounted rw, but neither the spec, the kubelet nor the runtime's defaults put a mount there"},
    ])
  })

  it('runAsUser: 1000 -> uid 1000 and no effective capability', async () => {
    const result = await compare(spec('cmp-user'))
    expect(differing(result)).toEqual([])
    expect(row(result, 'app', 'user')).toMatchObject({spec: '1000', runtime: '1000', kernel: '1000', basis: 'runAsUser'})
    expect(row(result, 'app', 'capabilities')).toMatchObject({spec: 'none', runtime: 'none', kernel: 'none'})
    // the root containers of the other pods keep containerd's default set in the kernel
    expect(row(await compare(spec('cmp-nnp')), 'app', 'capabilities')).toMatchObject({spec: 'default', runtime: 'default', kernel: 'default'})
  })
})
