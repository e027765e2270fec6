// What `sandbox create` needs to know before it plans, and what `sandbox ls/exec/rm` read back,
// all read through a Host (the live machine at /, in practice): cgroup controllers, MemTotal,
// link names, IP leases, paths, the state files.

import {resolve} from 'node:path'
import {type Host, hostPath, resolveLinkTarget} from '../host/host.js'
import {parseMemTotal} from '../parse/meminfo.js'
import {type SandboxState, parseState} from './state.js'

export interface CgroupFacts {
  version: 1 | 2
  mountRoot: string
  /** v1: which of the wanted controllers are mounted; v2: which are enabled at the root. */
  available: string[]
}

export const V1_CONTROLLERS = ['cpu', 'cpuacct', 'memory', 'pids']
export const V2_CONTROLLERS = ['cpu', 'memory', 'pids']

export async function cgroupFacts(host: Host, mountRoot = '/sys/fs/cgroup'): Promise<CgroupFacts> {
  const unified = await host.readFile(hostPath(mountRoot, 'cgroup.controllers'))
  if (unified !== undefined) return {version: 2, mountRoot, available: unified.trim().split(/\s+/)}
  const available: string[] = []
  for (const c of V1_CONTROLLERS) if (await host.stat(hostPath(mountRoot, c, 'cgroup.procs'))) available.push(c)
  return {version: 1, mountRoot, available}
}

/** MemTotal in bytes (0 when unreadable): the kubelet's oom_score_adj divides by it. */
export async function nodeMemoryBytes(host: Host): Promise<number> {
  return parseMemTotal((await host.readFile('/proc/meminfo')) ?? '') ?? 0
}

/** Names in a folder (links in /sys/class/net, leases in an IPAM folder); none when it is absent. */
export async function names(host: Host, dir: string): Promise<string[]> {
  return ((await host.readDir(dir)) ?? []).map((e) => e.name)
}

/** 'file', 'dir' or undefined, following links as a bind mount does. A path may be relative to the working directory. */
export async function pathKind(host: Host, path: string): Promise<'file' | 'dir' | undefined> {
  let at = resolve(path)
  for (let hops = 0; hops < 40; hops++) {
    const s = await host.stat(at)
    if (!s) return undefined
    if (s.kind !== 'link') return s.kind === 'dir' ? 'dir' : 'file'
    const target = await host.readLink(at)
    if (target === undefined) return undefined
    at = resolveLinkTarget(at, target)
  }
  return undefined
}

/** A file the user named (a manifest), relative to the working directory. */
export function readUserFile(host: Host, path: string): Promise<string | undefined> {
  return host.readFile(resolve(path))
}

export interface StateEntry {
  name: string
  dir: string
  state?: SandboxState
  problem?: string
}

/** Every sandbox state under root: parsed, or the reason it is not readable. */
export async function listStates(host: Host, root: string): Promise<StateEntry[]> {
  const out: StateEntry[] = []
  for (const name of (await names(host, root)).sort()) {
    const dir = hostPath(root, name)
    const where = hostPath(dir, 'state.json')
    const text = await host.readFile(where)
    if (text === undefined) {
      out.push({name, dir, problem: 'no state.json (half-made)'})
      continue
    }
    try {
      out.push({name, dir, state: parseState(text, where)})
    } catch (error) {
      out.push({name, dir, problem: (error as Error).message})
    }
  }
  return out
}

export interface ContainerExit {
  exitCode: number | null
  signal: string | null
  finishedAt: string
}

/** What the shim wrote when the container's process ended; undefined while it runs. */
export async function containerExit(host: Host, stateDir: string, container: string): Promise<ContainerExit | undefined> {
  const text = await host.readFile(hostPath(stateDir, 'containers', container, 'exit.json'))
  if (!text) return undefined
  try {
    return JSON.parse(text) as ContainerExit
  } catch {
    return undefined
  }
}
