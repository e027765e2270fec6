import {type Host, readFiles} from '../host/host.js'
import {type OciSpecSummary, parseRuntimeConfig} from '../parse/oci-config.js'
import type {Runtime} from './types.js'

/** Where each runtime keeps a container's config on disk: the container's folder, and the file's name in it. */
const CONFIG_PATHS: Array<[Exclude<Runtime, 'unknown'>, (id: string) => string, string]> = [
  ['containerd', (id) => `/run/containerd/io.containerd.runtime.v2.task/k8s.io/${id}`, 'config.json'],
  ['cri-o', (id) => `/run/containers/storage/overlay-containers/${id}/userdata`, 'config.json'],
  ['cri-o', (id) => `/var/lib/containers/storage/overlay-containers/${id}/userdata`, 'config.json'],
  ['docker', (id) => `/var/lib/docker/containers/${id}`, 'config.v2.json'],
]

/** The places to look for one container's config, the hinted runtime's first. */
function placesFor(hint: Runtime | null): typeof CONFIG_PATHS {
  return [...CONFIG_PATHS].sort(([a], [b]) => Number(b === hint) - Number(a === hint))
}

export interface RuntimeConfig {
  runtime: Exclude<Runtime, 'unknown'>
  path: string
  spec: OciSpecSummary
}

/** The runtime's config for a container ID; the runtime hint from the cgroup path is tried first. */
export async function readRuntimeConfig(host: Host, containerId: string, hint: Runtime | null): Promise<RuntimeConfig | undefined> {
  for (const [runtime, dirOf, name] of placesFor(hint)) {
    const path = `${dirOf(containerId)}/${name}`
    const text = await host.readFile(path)
    if (text !== undefined) return configFrom(host, runtime, path, text)
  }
  return undefined
}

/**
 * The configs of many containers, each as readRuntimeConfig gives it, read a place at a time
 * for all the containers that look there next (host.readFiles: the runtime's folder of
 * containers proved once, not a whole path resolved per container).
 */
export async function readRuntimeConfigs(host: Host, wanted: Array<{id: string; hint: Runtime | null}>): Promise<Array<RuntimeConfig | undefined>> {
  const out = new Array<RuntimeConfig | undefined>(wanted.length)
  const orders = wanted.map((w) => placesFor(w.hint))
  let open = wanted.map((_, i) => i)
  for (let rank = 0; rank < CONFIG_PATHS.length && open.length > 0; rank++) {
    const next: number[] = []
    for (const place of CONFIG_PATHS) {
      const here = open.filter((i) => orders[i][rank] === place)
      if (here.length === 0) continue
      const [runtime, dirOf, name] = place
      const dirs = here.map((i) => dirOf(wanted[i].id))
      const texts = await readFiles(host, dirs, [name])
      here.forEach((i, k) => {
        const text = texts[k][0]
        if (text === undefined) next.push(i)
        else out[i] = configFrom(host, runtime, `${dirs[k]}/${name}`, text)
      })
    }
    open = next.sort((a, b) => a - b)
  }
  return out
}

function configFrom(host: Host, runtime: Exclude<Runtime, 'unknown'>, path: string, text: string): RuntimeConfig | undefined {
  try {
    return {runtime, path, spec: parseRuntimeConfig(text)}
  } catch (error) {
    host.warnings.add(`bad:${path}`, `unreadable runtime config skipped (${(error as Error).message})`, path)
    return undefined
  }
}
