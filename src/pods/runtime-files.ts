import type {Host} from '../host/host.js'
import {type OciSpecSummary, parseRuntimeConfig} from '../parse/oci-config.js'
import type {Runtime} from './types.js'

/** Where each runtime keeps a container's config on disk. */
const CONFIG_PATHS: Array<[Exclude<Runtime, 'unknown'>, (id: string) => string]> = [
  ['containerd', (id) => `/run/containerd/io.containerd.runtime.v2.task/k8s.io/${id}/config.json`],
  ['cri-o', (id) => `/run/containers/storage/overlay-containers/${id}/userdata/config.json`],
  ['cri-o', (id) => `/var/lib/containers/storage/overlay-containers/${id}/userdata/config.json`],
  ['docker', (id) => `/var/lib/docker/containers/${id}/config.v2.json`],
]

export interface RuntimeConfig {
  runtime: Exclude<Runtime, 'unknown'>
  path: string
  spec: OciSpecSummary
}

/** The runtime's config for a container ID; the runtime hint from the cgroup path is tried first. */
export async function readRuntimeConfig(host: Host, containerId: string, hint: Runtime | null): Promise<RuntimeConfig | undefined> {
  const order = [...CONFIG_PATHS].sort(([a], [b]) => Number(b === hint) - Number(a === hint))
  for (const [runtime, pathOf] of order) {
    const path = pathOf(containerId)
    const text = await host.readFile(path)
    if (text === undefined) continue
    try {
      return {runtime, path, spec: parseRuntimeConfig(text)}
    } catch (error) {
      host.warnings.add(`bad:${path}`, `unreadable runtime config skipped (${(error as Error).message})`, path)
      return undefined
    }
  }
  return undefined
}
