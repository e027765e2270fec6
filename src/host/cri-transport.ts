import {existsSync, statSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import {CRI_TIMEOUT_MS, DEFAULT_RUNTIME_ENDPOINTS, endpointOf, socketPathOf} from './cri-endpoint.js'
import type {Container, ContainerConfig, ContainerFilter, ContainerStats, ContainerStatsFilter, ContainerStatusResponse, CriClient, Image, PodSandbox, PodSandboxConfig, PodSandboxFilter, PodSandboxStatusResponse, VersionResponse} from './cri-api.js'
import {hostPath} from './host.js'

// The CRI socket is the one piece of host truth that is not a file or a program, so its
// transport lives here with the rest of the seam; src/cri only sees typed answers.

export interface CriConnectOptions {
  /** -r/--runtime-endpoint; undefined: try crictl's defaults in order */
  endpoint?: string
  /** --host-root: sockets are looked up under it ("/host/run/containerd/containerd.sock") */
  hostRoot?: string
  /** per call; the first call (Version) also proves the socket answers */
  timeoutMs?: number
}

export interface CriConnectResult {
  client: CriClient | undefined
  /** Why there is no client, one line per endpoint tried (empty when a default socket is simply absent). */
  problems: string[]
}

type Callback<T> = (error: grpc.ServiceError | null, value: T) => void
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each method answers its own message type; cri-api.ts types them
type Unary = (request: object, metadata: grpc.Metadata, options: grpc.CallOptions, callback: Callback<any>) => grpc.ClientUnaryCall
type ServiceClient = grpc.Client & Record<string, Unary>

let services: {runtime: grpc.ServiceClientConstructor; image: grpc.ServiceClientConstructor} | undefined

function protoFile(): string {
  // dist/src/host/ when built, src/host/ under vitest: proto/ sits at the package root
  const here = dirname(fileURLToPath(import.meta.url))
  for (const up of ['../..', '../../..']) {
    const candidate = join(here, up, 'proto', 'cri.proto')
    if (existsSync(candidate)) return candidate
  }
  throw new Error('proto/cri.proto is missing from the nodedoc install')
}

function loadServices() {
  if (services) return services
  const options = {keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true}
  // the bundle and the single executable carry cri.proto as JSON (scripts/build-bundle.mjs)
  const embedded = (globalThis as {nodedocCriProto?: Parameters<typeof protoLoader.fromJSON>[0]}).nodedocCriProto
  const definition = embedded ? protoLoader.fromJSON(embedded, options) : protoLoader.loadSync(protoFile(), options)
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a package loaded from the .proto at run time
  const v1 = (grpc.loadPackageDefinition(definition) as any).runtime.v1
  services = {runtime: v1.RuntimeService, image: v1.ImageService}
  return services
}

function call<T>(client: ServiceClient, method: string, request: object, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    client[method](request, new grpc.Metadata(), {deadline: Date.now() + timeoutMs}, (error, value) => {
      if (error) reject(new Error(`CRI ${method}: ${error.details || error.message}`))
      else resolve(value as T)
    })
  })
}

/** A typed runtime.v1 client on one unix socket. Nothing is sent until a method is called. */
export function criClient(endpoint: string, socketPath: string, timeoutMs = CRI_TIMEOUT_MS): CriClient {
  const {runtime, image} = loadServices()
  const address = `unix://${socketPath}`
  const options = {'grpc.max_receive_message_length': 64 * 1024 * 1024}
  const rt = new runtime(address, grpc.credentials.createInsecure(), options) as unknown as ServiceClient
  const img = new image(address, grpc.credentials.createInsecure(), options) as unknown as ServiceClient
  const r = <T>(method: string, request: object = {}, ms = timeoutMs) => call<T>(rt, method, request, ms)
  // writes (sandbox start, stop with a grace period) take longer than reads
  const slow = Math.max(timeoutMs, 60_000)
  return {
    endpoint,
    version: () => r<VersionResponse>('Version', {version: 'v1'}),
    listPodSandbox: async (filter?: PodSandboxFilter) => (await r<{items: PodSandbox[]}>('ListPodSandbox', filter ? {filter} : {})).items,
    podSandboxStatus: (podSandboxId: string, verbose = false) => r<PodSandboxStatusResponse>('PodSandboxStatus', {podSandboxId, verbose}),
    listContainers: async (filter?: ContainerFilter) => (await r<{containers: Container[]}>('ListContainers', filter ? {filter} : {})).containers,
    containerStatus: (containerId: string, verbose = false) => r<ContainerStatusResponse>('ContainerStatus', {containerId, verbose}),
    containerStats: async (containerId: string) => (await r<{stats: ContainerStats | null}>('ContainerStats', {containerId})).stats,
    listContainerStats: async (filter?: ContainerStatsFilter) => (await r<{stats: ContainerStats[]}>('ListContainerStats', filter ? {filter} : {})).stats,
    runPodSandbox: async (config: PodSandboxConfig, runtimeHandler = '') => (await r<{podSandboxId: string}>('RunPodSandbox', {config, runtimeHandler}, slow)).podSandboxId,
    stopPodSandbox: async (podSandboxId: string) => void (await r('StopPodSandbox', {podSandboxId}, slow)),
    removePodSandbox: async (podSandboxId: string) => void (await r('RemovePodSandbox', {podSandboxId}, slow)),
    createContainer: async (podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig) =>
      (await r<{containerId: string}>('CreateContainer', {podSandboxId, config, sandboxConfig}, slow)).containerId,
    startContainer: async (containerId: string) => void (await r('StartContainer', {containerId}, slow)),
    stopContainer: async (containerId: string, timeout: number) => void (await r('StopContainer', {containerId, timeout}, slow + timeout * 1000)),
    removeContainer: async (containerId: string) => void (await r('RemoveContainer', {containerId}, slow)),
    listImages: async () => (await call<{images: Image[]}>(img, 'ListImages', {}, timeoutMs)).images,
    imageStatus: async (name: string) => (await call<{image: Image | null}>(img, 'ImageStatus', {image: {image: name}}, timeoutMs)).image ?? null,
    close: () => {
      rt.close()
      img.close()
    },
  }
}

async function isSocket(path: string): Promise<boolean> {
  try {
    return statSync(path).isSocket()
  } catch {
    return false
  }
}

/**
 * Connects to the runtime like crictl: the endpoint given, or the first default whose socket
 * exists and answers Version within the timeout. No socket is a normal answer (a node without
 * a CRI runtime, a snapshot, a container without the host's /run): client is undefined.
 */
export async function connectCri(options: CriConnectOptions = {}): Promise<CriConnectResult> {
  const root = options.hostRoot || '/'
  const timeoutMs = options.timeoutMs ?? CRI_TIMEOUT_MS
  const explicit = options.endpoint !== undefined && options.endpoint !== ''
  const endpoints = explicit ? [options.endpoint!] : DEFAULT_RUNTIME_ENDPOINTS
  const problems: string[] = []
  for (const endpoint of endpoints) {
    const socket = socketPathOf(endpoint)
    const real = root === '/' ? socket : hostPath(root, socket)
    if (!(await isSocket(real))) {
      if (explicit) problems.push(`runtime endpoint ${endpoint}: no socket at ${real}`)
      continue
    }
    const client = criClient(explicit ? endpoint : endpointOf(socket), real, timeoutMs)
    try {
      await client.version()
      return {client, problems}
    } catch (error) {
      client.close()
      problems.push(`runtime endpoint ${endpoint}: ${(error as Error).message}`)
    }
  }
  return {client: undefined, problems}
}
