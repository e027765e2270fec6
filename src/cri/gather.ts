import type {Warnings} from '../host/host.js'
import {connectCri} from '../host/cri-transport.js'
import type {CriClient} from './types.js'
import {type CriView, containerRecord, sandboxRecord} from './view.js'

/** Everything the runtime knows about pods and containers, with verbose status for each. */
export async function readCriView(client: CriClient): Promise<CriView> {
  const [version, sandboxes, containers] = await Promise.all([client.version(), client.listPodSandbox(), client.listContainers()])
  // a sandbox or container removed between list and status is normal: keep what the list said
  const sandboxRecords = await Promise.all(
    sandboxes.map(async (item) => sandboxRecord(item, await client.podSandboxStatus(item.id, true).catch(() => undefined))),
  )
  const containerRecords = await Promise.all(
    containers.map(async (item) => containerRecord(item, await client.containerStatus(item.id, true).catch(() => undefined))),
  )
  return {
    endpoint: client.endpoint,
    runtime: {name: version.runtimeName, version: version.runtimeVersion, apiVersion: version.runtimeApiVersion},
    sandboxes: sandboxRecords,
    containers: containerRecords,
  }
}

export interface CriChoice {
  /** -r/--runtime-endpoint */
  endpoint?: string
  hostRoot?: string
  timeoutMs?: number
}

/**
 * The runtime's view when a CRI socket answers, else undefined. Problems (an endpoint given
 * with -r that does not answer) become warnings: nodedoc then works from host files alone.
 */
export async function gatherCriView(choice: CriChoice, warnings: Warnings): Promise<CriView | undefined> {
  const {client, problems} = await connectCri(choice)
  for (const problem of problems) warnings.add(`cri:${problem}`, `${problem}; using host files only`)
  if (!client) return undefined
  try {
    return await readCriView(client)
  } catch (error) {
    warnings.add('cri:read', `${client.endpoint}: ${(error as Error).message}; using host files only`)
    return undefined
  } finally {
    client.close()
  }
}

/** The runtime's view for a command's flags: none for a snapshot (--from), which has no socket. */
export function criViewFor(flags: {from?: string; 'host-root'?: string; 'runtime-endpoint'?: string}, warnings: Warnings): Promise<CriView | undefined> {
  if (flags.from) return Promise.resolve(undefined)
  return gatherCriView({endpoint: flags['runtime-endpoint'], hostRoot: flags['host-root']}, warnings)
}
