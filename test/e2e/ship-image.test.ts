// The nodedoc image (npm run build:image) imported into the test node's containerd and run as
// a pod the way deploy/ runs it: host PID and network namespaces, not privileged, all
// capabilities dropped but the ones docs/privileges.md lists for an inspection, a read-only root
// filesystem, the node's root read-only at /host. Inside, `nodedoc pod core-k8s --host-root
// /host -o json` must give the answer the same command gives on the host as full root.
import {randomBytes} from 'node:crypto'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {ContainerConfig, PodSandboxConfig} from '../../src/host/cri-api.js'
import type {PodReport} from '../../src/pods/types.js'
import {withoutCounters} from '../helpers/volatile.js'
import {parseCriLog} from '../../src/parse/cri-log.js'
import {securityContextFor} from '../../src/kubectl/privileges.js'
import {podCatalogue} from './node/catalogue.js'
import {REPO, nodedoc} from './node/cli.js'
import {sleep} from './node/containerd.js'
import {CGROUP_ROOT, mkdirs, newPodState, podUid} from './node/kubelet.js'
import {CONTAINERD_SOCKET} from './node/layout.js'
import {type TestNode, nodeDown, nodeUp} from './node/node.js'
import {saveState} from './node/state.js'

const suffix = randomBytes(3).toString('hex')
const namespaces = {apps: `e2e-img-${suffix}`, system: `e2e-img-${suffix}-system`}
const specs = podCatalogue(namespaces).filter((s) => s.name === 'core-k8s')
let node: TestNode
let inPod: Awaited<ReturnType<typeof runImagePod>>
let onHost: Awaited<ReturnType<typeof nodedoc>>

/** Runs the image once as a hostPID/hostNetwork pod with / at /host; its output from the CRI log. */
async function runImagePod(image: string, args: string[]) {
  const spec = {name: `nodedoc-debug-${suffix}`, namespace: namespaces.system, hostNetwork: true, containers: [{name: 'nodedoc', command: args}]}
  const pod = newPodState(spec, podUid())
  node.state.pods.push(pod) // recorded first: nodeDown removes it whatever happens next
  await saveState(node.state)
  for (const controller of ['cpu', 'cpuacct', 'memory', 'pids']) pod.cgroupDirs.push(...(await mkdirs(join(CGROUP_ROOT, controller, pod.cgroupParent))))
  await mkdirs(join(pod.logDir, 'nodedoc'))
  await saveState(node.state)
  const hostNamespaces = {network: 'NODE', pid: 'NODE', ipc: 'NODE'} as const
  // what the kubelet asks of the runtime for deploy/'s securityContext
  const wanted = securityContextFor(args)
  const containerSecurity = {
    namespaceOptions: hostNamespaces,
    privileged: wanted.privileged ?? false,
    capabilities: {addCapabilities: wanted.capabilities?.add ?? [], dropCapabilities: wanted.capabilities?.drop ?? []},
    readonlyRootfs: wanted.readOnlyRootFilesystem ?? false,
    noNewPrivs: wanted.allowPrivilegeEscalation === false,
    runAsUser: {value: wanted.runAsUser ?? 0},
  }
  const sandbox: PodSandboxConfig = {
    metadata: {name: spec.name, uid: pod.uid, namespace: spec.namespace, attempt: 0},
    hostname: '',
    logDirectory: pod.logDir,
    labels: {'io.kubernetes.pod.name': spec.name, 'io.kubernetes.pod.namespace': spec.namespace, 'io.kubernetes.pod.uid': pod.uid},
    annotations: {},
    linux: {cgroupParent: pod.cgroupParent, securityContext: {namespaceOptions: hostNamespaces, privileged: false}},
  } as PodSandboxConfig
  pod.sandboxId = await node.cri.runPodSandbox(sandbox)
  await saveState(node.state)
  const entry = {name: 'nodedoc', id: null as string | null, logPath: join(pod.logDir, 'nodedoc/0.log')}
  pod.containers.push(entry)
  const config: ContainerConfig = {
    metadata: {name: 'nodedoc', attempt: 0},
    image: {image},
    args,
    envs: [{key: 'NO_COLOR', value: '1'}],
    // private, as the pod specs in deploy/ (no mountPropagation): / is not a shared mount on every node
    mounts: [{containerPath: '/host', hostPath: '/', readonly: true, propagation: 'PROPAGATION_PRIVATE'}],
    labels: {'io.kubernetes.container.name': 'nodedoc', 'io.kubernetes.pod.name': spec.name, 'io.kubernetes.pod.namespace': spec.namespace, 'io.kubernetes.pod.uid': pod.uid},
    annotations: {},
    logPath: 'nodedoc/0.log',
    linux: {securityContext: containerSecurity},
  } as ContainerConfig
  entry.id = await node.cri.createContainer(pod.sandboxId, config, sandbox)
  await saveState(node.state)
  await node.cri.startContainer(entry.id)
  const deadline = Date.now() + 60_000
  let status = await node.cri.containerStatus(entry.id)
  while (status.status?.state !== 'CONTAINER_EXITED') {
    if (Date.now() > deadline) throw new Error(`the nodedoc pod did not finish: ${status.status?.state}`)
    await sleep(200)
    status = await node.cri.containerStatus(entry.id)
  }
  const {entries} = parseCriLog(await readFile(entry.logPath, 'utf8'))
  const text = (stream: string) => entries.filter((e) => e.stream === stream).map((e) => `${e.text}\n`).join('')
  // the OCI spec containerd made for it: what the container really ran with
  const info = await execa('ctr', ['--address', CONTAINERD_SOCKET, '-n', 'k8s.io', 'containers', 'info', entry.id])
  const oci = JSON.parse(info.stdout).Spec as {process: {capabilities: {effective?: string[]; bounding?: string[]}; noNewPrivileges?: boolean}; root: {readonly?: boolean}}
  return {stdout: text('stdout'), stderr: text('stderr'), exitCode: status.status?.exitCode ?? null, spec: oci}
}

beforeAll(async () => {
  const built = await execa(process.execPath, [join(REPO, 'scripts', 'build-image.mjs')], {cwd: REPO, reject: false})
  expect(built.exitCode, built.stderr).toBe(0)
  const [, tar, image] = built.stdout.match(/image: (\S+) \(([^,]+),/)!
  node = await nodeUp(namespaces, specs)
  await execa('ctr', ['--address', CONTAINERD_SOCKET, '-n', 'k8s.io', 'images', 'import', tar])
  inPod = await runImagePod(image, ['pod', 'core-k8s', '-n', namespaces.apps, '--host-root', '/host', '-o', 'json'])
  onHost = await nodedoc(['pod', 'core-k8s', '-n', namespaces.apps, '-o', 'json'])
}, 600_000)

afterAll(async () => {
  node?.cri.close()
  expect(await nodeDown()).toEqual([])
})

describe('nodedoc image as a pod on a containerd node', () => {
  it('runs to completion', () => {
    expect(inPod.exitCode, inPod.stderr).toBe(0)
  })

  it('ran unprivileged, with only the inspection capabilities and a read-only root', () => {
    const wanted = ['CAP_DAC_READ_SEARCH', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_SYSLOG', 'CAP_SYS_PTRACE']
    expect([...(inPod.spec.process.capabilities.effective ?? [])].sort()).toEqual(wanted)
    expect([...(inPod.spec.process.capabilities.bounding ?? [])].sort()).toEqual(wanted)
    expect(inPod.spec.process.noNewPrivileges).toBe(true)
    expect(inPod.spec.root.readonly).toBe(true)
  })

  it('sees core-k8s from /host exactly as nodedoc does on the host as full root', () => {
    expect(onHost.exitCode, onHost.stderr).toBe(0)
    const host = JSON.parse(onHost.stdout) as PodReport
    const pod = JSON.parse(inPod.stdout) as PodReport
    expect(host.name).toBe('core-k8s')
    expect(host.containers.length).toBeGreaterThan(0)
    // read a moment apart: memory use may differ, nothing else may
    expect(withoutCounters(pod)).toEqual(withoutCounters(host))
  })
})
