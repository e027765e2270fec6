// Reads a Pod manifest into the few fields a sandbox (and `compare`) acts on. YAML problems and
// bad fields become one ManifestError naming file:line:column, so nothing is built from a
// manifest that does not say what it seems to say.

import * as YAML from 'yaml'
import type {Node} from 'yaml'
import {NodedocError} from '../errors.js'
import {memoryBytes, milliCpu} from './quantity.js'

export interface ResourceAmounts {
  cpuMilli: number | null
  memoryBytes: number | null
}

export interface ContainerResources {
  requests: ResourceAmounts
  limits: ResourceAmounts
}

export interface VolumeMount {
  name: string
  mountPath: string
  readOnly: boolean
}

export interface ContainerSpec {
  name: string
  image: string | null
  command: string[] | null
  args: string[] | null
  env: Array<{name: string; value: string}>
  workingDir: string | null
  resources: ContainerResources
  volumeMounts: VolumeMount[]
  runAsUser: number | null
  runAsGroup: number | null
  /** The rest of securityContext, as written (null = not set): what `compare` expects from (parsePodManifest always fills it). */
  security?: ContainerSecurity
  /** null = not set; the API server defaults it to /dev/termination-log */
  terminationMessagePath?: string | null
}

export type SeccompProfileType = 'RuntimeDefault' | 'Unconfined' | 'Localhost'

export interface ContainerSecurity {
  allowPrivilegeEscalation: boolean | null
  privileged: boolean | null
  readOnlyRootFilesystem: boolean | null
  capabilities: {add: string[]; drop: string[]} | null
  seccompProfile: SeccompProfileType | null
  procMount: string | null
}

/** spec.securityContext: the fields a container inherits when it does not set its own. */
export interface PodSecurity {
  runAsUser: number | null
  runAsGroup: number | null
  seccompProfile: SeccompProfileType | null
}

/**
 * secret, configMap, downwardAPI and projected volumes carry API data (the kubelet always mounts
 * them read-only); any other kind is `other`. Only `parsePodManifest(..., {anyVolume: true})`
 * returns these two: a sandbox cannot build them.
 */
export type VolumeSource =
  | {kind: 'emptyDir'; medium: 'Memory' | null}
  | {kind: 'hostPath'; path: string}
  | {kind: 'apiData'; type: string}
  | {kind: 'other'; type: string}

export interface VolumeSpec {
  name: string
  source: VolumeSource
}

export interface PodManifest {
  name: string
  namespace: string
  uid: string | null
  hostNetwork: boolean
  hostPID: boolean
  hostIPC: boolean
  shareProcessNamespace: boolean
  hostname: string | null
  containers: ContainerSpec[]
  volumes: VolumeSpec[]
  /** spec.securityContext (parsePodManifest always fills it) */
  security?: PodSecurity
  /** null = not set (the ServiceAccount decides) */
  automountServiceAccountToken?: boolean | null
}

export interface ParseOptions {
  /** accept every volume kind (compare reads real manifests; a sandbox builds only emptyDir and hostPath) */
  anyVolume?: boolean
}

export class ManifestError extends NodedocError {}

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

/** Parses Pod YAML (or JSON). `file` only names the source in errors. */
export function parsePodManifest(text: string, file = 'pod.yaml', options: ParseOptions = {}): PodManifest {
  const lineCounter = new YAML.LineCounter()
  const doc = YAML.parseDocument(text, {lineCounter, uniqueKeys: true})
  const at = (node: Node | null | undefined): string => {
    const offset = node?.range?.[0]
    if (offset === undefined) return file
    const {line, col} = lineCounter.linePos(offset)
    return `${file}:${line}:${col}`
  }
  const first = doc.errors[0]
  if (first) {
    const pos = first.linePos?.[0]
    const where = pos ? `${file}:${pos.line}:${pos.col}` : file
    const reason = first.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')
    throw new ManifestError(`${where}: invalid YAML: ${reason}`)
  }
  const root = doc.contents
  if (!YAML.isMap(root)) throw new ManifestError(`${at(root)}: expected a Pod manifest (a mapping), got ${describe(root)}`)

  const reader = new FieldReader(at, options)
  const kind = reader.string(root, 'kind', {required: true})
  if (kind !== 'Pod') throw new ManifestError(`${at(root.get('kind', true) as Node)}: kind is ${kind}, expected Pod`)
  const metadata = reader.map(root, 'metadata', {required: true})!
  const name = reader.name(metadata, 'name', 'metadata.name')
  const namespace = reader.string(metadata, 'namespace') ?? 'default'
  const uid = reader.string(metadata, 'uid') ?? null
  const spec = reader.map(root, 'spec', {required: true})!

  const volumes = (reader.seq(spec, 'volumes') ?? []).map((node, i) => reader.volume(node, `spec.volumes[${i}]`))
  const volumeNames = new Set(volumes.map((v) => v.name))
  const containersNode = spec.get('containers', true) as Node | undefined
  const containers = (reader.seq(spec, 'containers', {required: true}) ?? []).map((node, i) =>
    reader.container(node, `spec.containers[${i}]`, volumeNames),
  )
  if (containers.length === 0) throw new ManifestError(`${at(containersNode ?? spec)}: spec.containers: a Pod needs at least one container`)
  const seen = new Set<string>()
  for (const [i, c] of containers.entries()) {
    if (seen.has(c.name)) throw new ManifestError(`${at(containersNode)}: spec.containers[${i}].name: duplicate container name ${c.name}`)
    seen.add(c.name)
  }

  return {
    name,
    namespace,
    uid,
    hostNetwork: reader.bool(spec, 'hostNetwork'),
    hostPID: reader.bool(spec, 'hostPID'),
    hostIPC: reader.bool(spec, 'hostIPC'),
    shareProcessNamespace: reader.bool(spec, 'shareProcessNamespace'),
    hostname: reader.string(spec, 'hostname') ?? null,
    containers,
    volumes,
    security: reader.podSecurity(spec),
    automountServiceAccountToken: reader.optionalBool(spec, 'automountServiceAccountToken'),
  }
}

const SECCOMP_TYPES = new Set<string>(['RuntimeDefault', 'Unconfined', 'Localhost'])
const API_DATA_VOLUMES = ['secret', 'configMap', 'downwardAPI', 'projected']

function describe(node: unknown): string {
  if (node === null || node === undefined) return 'nothing'
  if (YAML.isSeq(node)) return 'a list'
  if (YAML.isScalar(node)) return `the scalar ${JSON.stringify(node.value)}`
  return 'something else'
}

type Map = YAML.YAMLMap<unknown, unknown>

/** Typed field access with file:line:col errors. */
class FieldReader {
  constructor(private readonly at: (node: Node | null | undefined) => string, private readonly options: ParseOptions = {}) {}

  private fail(node: Node | null | undefined, path: string, message: string): never {
    throw new ManifestError(`${this.at(node)}: ${path}: ${message}`)
  }

  private field(map: Map, key: string, required: boolean, path: string): Node | undefined {
    const node = map.get(key, true) as Node | undefined
    if (node === undefined || (YAML.isScalar(node) && node.value === null)) {
      if (required) this.fail(map, path, 'is required')
      return undefined
    }
    return node
  }

  string(map: Map, key: string, opts: {required?: boolean; path?: string} = {}): string | undefined {
    const path = opts.path ?? key
    const node = this.field(map, key, opts.required ?? false, path)
    if (node === undefined) return undefined
    if (!YAML.isScalar(node) || (typeof node.value !== 'string' && typeof node.value !== 'number')) this.fail(node, path, `expected a string, got ${describe(node)}`)
    return String(node.value)
  }

  name(map: Map, key: string, path: string): string {
    const value = this.string(map, key, {required: true, path})!
    if (!NAME.test(value) || value.length > 63) this.fail(map.get(key, true) as Node, path, `${JSON.stringify(value)} is not a valid name (lower-case letters, digits and '-', at most 63)`)
    return value
  }

  bool(map: Map, key: string): boolean {
    const node = this.field(map, key, false, key)
    if (node === undefined) return false
    if (!YAML.isScalar(node) || typeof node.value !== 'boolean') this.fail(node, key, `expected true or false, got ${describe(node)}`)
    return node.value as boolean
  }

  /** true, false, or null when the field is absent */
  optionalBool(map: Map, key: string, path = key): boolean | null {
    const node = this.field(map, key, false, path)
    if (node === undefined) return null
    if (!YAML.isScalar(node) || typeof node.value !== 'boolean') this.fail(node, path, `expected true or false, got ${describe(node)}`)
    return node.value as boolean
  }

  seccomp(security: Map | undefined, path: string): SeccompProfileType | null {
    const profile = security ? this.map(security, 'seccompProfile', {path: `${path}.seccompProfile`}) : undefined
    if (!profile) return null
    const type = this.string(profile, 'type', {required: true, path: `${path}.seccompProfile.type`})!
    if (!SECCOMP_TYPES.has(type)) this.fail(profile.get('type', true) as Node, `${path}.seccompProfile.type`, `${JSON.stringify(type)} is not RuntimeDefault, Unconfined or Localhost`)
    return type as SeccompProfileType
  }

  integer(map: Map | undefined, key: string, path: string): number | null {
    const v = map ? this.string(map, key, {path: `${path}.${key}`}) : undefined
    if (v === undefined) return null
    if (!/^[0-9]+$/.test(v)) this.fail(map!.get(key, true) as Node, `${path}.${key}`, 'expected a non-negative integer')
    return Number(v)
  }

  podSecurity(spec: Map): PodSecurity {
    const security = this.map(spec, 'securityContext', {path: 'spec.securityContext'})
    return {
      runAsUser: this.integer(security, 'runAsUser', 'spec.securityContext'),
      runAsGroup: this.integer(security, 'runAsGroup', 'spec.securityContext'),
      seccompProfile: this.seccomp(security, 'spec.securityContext'),
    }
  }

  containerSecurity(security: Map | undefined, path: string): ContainerSecurity {
    const p = `${path}.securityContext`
    const caps = security ? this.map(security, 'capabilities', {path: `${p}.capabilities`}) : undefined
    return {
      allowPrivilegeEscalation: security ? this.optionalBool(security, 'allowPrivilegeEscalation', `${p}.allowPrivilegeEscalation`) : null,
      privileged: security ? this.optionalBool(security, 'privileged', `${p}.privileged`) : null,
      readOnlyRootFilesystem: security ? this.optionalBool(security, 'readOnlyRootFilesystem', `${p}.readOnlyRootFilesystem`) : null,
      capabilities: caps ? {add: this.strings(caps, 'add', `${p}.capabilities.add`) ?? [], drop: this.strings(caps, 'drop', `${p}.capabilities.drop`) ?? []} : null,
      seccompProfile: this.seccomp(security, p),
      procMount: security ? (this.string(security, 'procMount', {path: `${p}.procMount`}) ?? null) : null,
    }
  }

  map(map: Map, key: string, opts: {required?: boolean; path?: string} = {}): Map | undefined {
    const path = opts.path ?? key
    const node = this.field(map, key, opts.required ?? false, path)
    if (node === undefined) return undefined
    if (!YAML.isMap(node)) this.fail(node, path, `expected a mapping, got ${describe(node)}`)
    return node
  }

  seq(map: Map, key: string, opts: {required?: boolean; path?: string} = {}): Node[] | undefined {
    const path = opts.path ?? key
    const node = this.field(map, key, opts.required ?? false, path)
    if (node === undefined) return undefined
    if (!YAML.isSeq(node)) this.fail(node, path, `expected a list, got ${describe(node)}`)
    return node.items as Node[]
  }

  strings(map: Map, key: string, path: string): string[] | null {
    const items = this.seq(map, key, {path})
    if (!items) return null
    return items.map((item, i) => {
      if (!YAML.isScalar(item) || item.value === null || typeof item.value === 'object') this.fail(item, `${path}[${i}]`, `expected a string, got ${describe(item)}`)
      return String(item.value)
    })
  }

  container(node: Node, path: string, volumeNames: Set<string>): ContainerSpec {
    if (!YAML.isMap(node)) this.fail(node, path, `expected a mapping, got ${describe(node)}`)
    const name = this.name(node, 'name', `${path}.name`)
    const resourcesNode = this.map(node, 'resources', {path: `${path}.resources`})
    const amounts = (key: 'requests' | 'limits'): ResourceAmounts => {
      const m = resourcesNode ? this.map(resourcesNode, key, {path: `${path}.resources.${key}`}) : undefined
      const cpu = m ? this.string(m, 'cpu', {path: `${path}.resources.${key}.cpu`}) : undefined
      const memory = m ? this.string(m, 'memory', {path: `${path}.resources.${key}.memory`}) : undefined
      const cpuMilli = cpu === undefined ? null : milliCpu(cpu)
      const mem = memory === undefined ? null : memoryBytes(memory)
      if (cpuMilli === undefined) this.fail(m!.get('cpu', true) as Node, `${path}.resources.${key}.cpu`, `${JSON.stringify(cpu)} is not a CPU quantity (e.g. 250m, 0.5, 2)`)
      if (mem === undefined) this.fail(m!.get('memory', true) as Node, `${path}.resources.${key}.memory`, `${JSON.stringify(memory)} is not a memory quantity (e.g. 200Mi, 1G)`)
      return {cpuMilli, memoryBytes: mem}
    }
    const limits = amounts('limits')
    const given = amounts('requests')
    // API-server defaulting: a resource with a limit and no request is requested at its limit
    const requests: ResourceAmounts = {
      cpuMilli: given.cpuMilli ?? limits.cpuMilli,
      memoryBytes: given.memoryBytes ?? limits.memoryBytes,
    }
    for (const r of ['cpuMilli', 'memoryBytes'] as const) {
      if (limits[r] !== null && requests[r]! > limits[r]!) {
        this.fail(resourcesNode, `${path}.resources.requests`, `${r === 'cpuMilli' ? 'cpu' : 'memory'} request must not exceed its limit`)
      }
    }
    const mounts = (this.seq(node, 'volumeMounts', {path: `${path}.volumeMounts`}) ?? []).map((m, i) => {
      const p = `${path}.volumeMounts[${i}]`
      if (!YAML.isMap(m)) this.fail(m, p, `expected a mapping, got ${describe(m)}`)
      const volume = this.string(m, 'name', {required: true, path: `${p}.name`})!
      if (!volumeNames.has(volume)) this.fail(m, `${p}.name`, `no volume named ${volume} in spec.volumes`)
      const mountPath = this.string(m, 'mountPath', {required: true, path: `${p}.mountPath`})!
      if (!mountPath.startsWith('/')) this.fail(m.get('mountPath', true) as Node, `${p}.mountPath`, 'must be an absolute path')
      // as the API server refuses it: the mount point is made below the container's root
      if (mountPath.split('/').includes('..')) this.fail(m.get('mountPath', true) as Node, `${p}.mountPath`, "must not contain '..'")
      return {name: volume, mountPath, readOnly: this.bool(m, 'readOnly')}
    })
    const env = (this.seq(node, 'env', {path: `${path}.env`}) ?? []).map((e, i) => {
      if (!YAML.isMap(e)) this.fail(e, `${path}.env[${i}]`, `expected a mapping, got ${describe(e)}`)
      return {name: this.string(e, 'name', {required: true, path: `${path}.env[${i}].name`})!, value: this.string(e, 'value', {path: `${path}.env[${i}].value`}) ?? ''}
    })
    const security = this.map(node, 'securityContext', {path: `${path}.securityContext`})
    return {
      name,
      image: this.string(node, 'image', {path: `${path}.image`}) ?? null,
      command: this.strings(node, 'command', `${path}.command`),
      args: this.strings(node, 'args', `${path}.args`),
      env,
      workingDir: this.string(node, 'workingDir', {path: `${path}.workingDir`}) ?? null,
      resources: {requests, limits},
      volumeMounts: mounts,
      runAsUser: this.integer(security, 'runAsUser', `${path}.securityContext`),
      runAsGroup: this.integer(security, 'runAsGroup', `${path}.securityContext`),
      security: this.containerSecurity(security, path),
      terminationMessagePath: this.string(node, 'terminationMessagePath', {path: `${path}.terminationMessagePath`}) ?? null,
    }
  }

  volume(node: Node, path: string): VolumeSpec {
    if (!YAML.isMap(node)) this.fail(node, path, `expected a mapping, got ${describe(node)}`)
    const name = this.name(node, 'name', `${path}.name`)
    if (node.has('emptyDir')) {
      const e = node.get('emptyDir', true) as Node
      const medium = YAML.isMap(e) ? this.string(e, 'medium', {path: `${path}.emptyDir.medium`}) : undefined
      if (medium !== undefined && medium !== '' && medium !== 'Memory') this.fail(e, `${path}.emptyDir.medium`, `unsupported medium ${medium}`)
      return {name, source: {kind: 'emptyDir', medium: medium === 'Memory' ? 'Memory' : null}}
    }
    const hostPath = this.map(node, 'hostPath', {path: `${path}.hostPath`})
    if (hostPath) {
      const p = this.string(hostPath, 'path', {required: true, path: `${path}.hostPath.path`})!
      if (!p.startsWith('/')) this.fail(hostPath, `${path}.hostPath.path`, 'must be an absolute path')
      return {name, source: {kind: 'hostPath', path: p}}
    }
    if (this.options.anyVolume) {
      const type = API_DATA_VOLUMES.find((t) => node.has(t))
      if (type) return {name, source: {kind: 'apiData', type}}
      const other = node.items.map((pair) => String((pair.key as {value?: unknown})?.value ?? pair.key)).find((k) => k !== 'name')
      return {name, source: {kind: 'other', type: other ?? 'unknown'}}
    }
    this.fail(node, path, 'only emptyDir and hostPath volumes are supported by the sandbox')
  }
}

/** The argv a container runs: command replaces the image entrypoint, args its cmd. */
export function containerArgv(c: ContainerSpec): string[] {
  // no image config to read here: the busybox image's default is `sh`
  if (c.command) return [...c.command, ...(c.args ?? [])]
  if (c.args) return [...c.args]
  return ['sh']
}
