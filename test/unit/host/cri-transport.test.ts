// The CRI transport against a small runtime.v1 server on unix sockets in a temp dir (no root,
// no containerd): crictl's endpoint order under --host-root, -r, timeouts and fallbacks.
import {mkdir, mkdtemp, rm} from 'node:fs/promises'
import {createServer, type Server as NetServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {gatherCriView} from '../../../src/cri/gather.js'
import {connectCri} from '../../../src/host/cri-transport.js'
import {Warnings} from '../../../src/host/host.js'
import {REPO} from '../../e2e/node/cli.js'
import {containerdAnswers} from '../cri/answers.js'

const answers = containerdAnswers()
let root: string
const servers: grpc.Server[] = []
let silent: NetServer
let statusCalls = 0

function fakeRuntime(name: string): grpc.UntypedServiceImplementation {
  const reply = (value: unknown) => (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback(null, value)
  return {
    Version: reply({...answers.version, runtimeName: name}),
    ListPodSandbox: reply({items: answers.sandboxes}),
    ListContainers: reply({containers: answers.containers}),
    PodSandboxStatus: (call: grpc.ServerUnaryCall<{podSandboxId: string; verbose: boolean}, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      statusCalls++
      const status = answers.sandboxStatus[call.request.podSandboxId]
      if (!status) callback({code: grpc.status.NOT_FOUND, details: 'no such sandbox'})
      else callback(null, call.request.verbose ? status : {...status, info: {}})
    },
    ContainerStatus: (call: grpc.ServerUnaryCall<{containerId: string; verbose: boolean}, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      statusCalls++
      // one container vanished between list and status, as happens on a busy node
      if (call.request.containerId.startsWith('763bd3cc')) return callback({code: grpc.status.NOT_FOUND, details: 'gone'})
      callback(null, answers.containerStatus[call.request.containerId])
    },
  }
}

async function serve(socket: string, name: string): Promise<void> {
  const definition = protoLoader.loadSync(join(REPO, 'proto/cri.proto'), {keepCase: false, longs: Number, enums: String, defaults: true})
  const v1 = (grpc.loadPackageDefinition(definition) as any).runtime.v1
  const server = new grpc.Server()
  server.addService(v1.RuntimeService.service, fakeRuntime(name))
  await new Promise<void>((done, fail) => server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? fail(e) : done())))
  servers.push(server)
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'nodedoc-cri-'))
  await mkdir(join(root, 'run/crio'), {recursive: true})
  await mkdir(join(root, 'var/run'), {recursive: true})
  await mkdir(join(root, 'run/containerd'), {recursive: true})
  await serve(join(root, 'run/crio/crio.sock'), 'cri-o')
  await serve(join(root, 'var/run/cri-dockerd.sock'), 'docker')
  // a socket that accepts and never answers: a hung runtime
  silent = createServer(() => undefined)
  await new Promise<void>((done) => silent.listen(join(root, 'run/containerd/containerd.sock'), done))
})

afterAll(async () => {
  for (const s of servers) s.forceShutdown()
  silent?.close()
  await rm(root, {recursive: true, force: true})
})

describe('connectCri', () => {
  it("passes over a hung containerd and takes CRI-O next, in crictl's order", async () => {
    const {client, problems} = await connectCri({hostRoot: root, timeoutMs: 300})
    expect(client?.endpoint).toBe('unix:///run/crio/crio.sock')
    expect((await client!.version()).runtimeName).toBe('cri-o')
    client!.close()
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(/^runtime endpoint unix:\/\/\/run\/containerd\/containerd.sock: CRI Version: /)
  })

  it('uses the endpoint -r names, under the host root', async () => {
    const {client} = await connectCri({endpoint: 'unix:///var/run/cri-dockerd.sock', hostRoot: root})
    expect((await client!.version()).runtimeName).toBe('docker')
    client!.close()
  })

  it('returns no client, quietly, when no default socket exists', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'nodedoc-cri-empty-'))
    try {
      expect(await connectCri({hostRoot: empty})).toEqual({client: undefined, problems: []})
    } finally {
      await rm(empty, {recursive: true})
    }
  })
})

describe('gatherCriView', () => {
  it('reads every sandbox and container, keeping list answers for one that vanished', async () => {
    const warnings = new Warnings()
    const view = await gatherCriView({endpoint: 'unix:///run/crio/crio.sock', hostRoot: root}, warnings)
    expect(warnings.list()).toEqual([])
    expect(view?.runtime).toEqual({name: 'cri-o', version: '1.6.20~ds1', apiVersion: 'v1'})
    expect(view?.sandboxes.map((s) => [s.name, s.pid])).toEqual([['core-k8s-duo', 10354], ['core-k8s-hostnet', 10499]])
    expect(view?.containers.map((c) => [c.name, c.pid])).toEqual(
      answers.containers.map((c) => [c.metadata!.name, c.id.startsWith('763bd3cc') ? null : expect.any(Number)]),
    )
  })

  it('warns in one line and falls back when the runtime hangs', async () => {
    const warnings = new Warnings()
    expect(await gatherCriView({endpoint: 'unix:///run/containerd/containerd.sock', hostRoot: root, timeoutMs: 200}, warnings)).toBeUndefined()
    expect(warnings.list()).toHaveLength(1)
    expect(warnings.list()[0]).toMatch(/containerd.sock: CRI Version: .*; using host files only$/)
  })

  it('asks for status only in the scope a command needs', async () => {
    const choice = {endpoint: 'unix:///run/crio/crio.sock', hostRoot: root}
    const hostnet = answers.sandboxes.find((s) => s.metadata!.name === 'core-k8s-hostnet')!
    statusCalls = 0
    const one = await gatherCriView(choice, new Warnings(), {podUid: hostnet.metadata!.uid})
    expect(statusCalls).toBe(2)
    expect(one?.sandboxes.map((s) => [s.name, s.pid])).toEqual([['core-k8s-duo', null], ['core-k8s-hostnet', 10499]])
    expect(one?.containers.filter((c) => c.pid !== null).map((c) => c.name)).toEqual(['agent'])
    statusCalls = 0
    const names = await gatherCriView(choice, new Warnings(), {statuses: false})
    expect(statusCalls).toBe(0)
    expect(names?.containers.map((c) => c.name).sort()).toEqual(['agent', 'reader', 'writer'])
  })
})
