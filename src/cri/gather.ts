import type {Host, Warnings} from '../host/host.js'
import {connectCri} from '../host/cri-transport.js'
import type {CriClient} from '../host/cri-api.js'
import {criViewProblem} from './schema.js'
import {type CriView, containerRecord, sandboxRecord} from './view.js'

/** Which part of the runtime's view a command needs: verbose statuses cost one call each. */
export interface CriScope {
  /** only this pod's sandboxes and containers get a status call (`pod NAME`) */
  podUid?: string
  /** false: lists only, no status calls (`ps` needs names, not PIDs or IPs) */
  statuses?: boolean
}

function inScope(scope: CriScope, uid: string | undefined): boolean {
  if (scope.statuses === false) return false
  return scope.podUid === undefined || uid === scope.podUid
}

/** What the runtime knows about pods and containers, with verbose status for those in scope. */
export async function readCriView(client: CriClient, scope: CriScope = {}): Promise<CriView> {
  const [version, sandboxes, containers] = await Promise.all([client.version(), client.listPodSandbox(), client.listContainers()])
  // a sandbox or container removed between list and status is normal: keep what the list said
  const status = <T>(wanted: boolean, call: () => Promise<T>) => (wanted ? call().catch(() => undefined) : Promise.resolve(undefined))
  const sandboxRecords = await Promise.all(
    sandboxes.map(async (item) => sandboxRecord(item, await status(inScope(scope, item.metadata?.uid), () => client.podSandboxStatus(item.id, true)))),
  )
  const containerRecords = await Promise.all(
    containers.map(async (item) => containerRecord(item, await status(inScope(scope, item.labels['io.kubernetes.pod.uid']), () => client.containerStatus(item.id, true)))),
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
export async function gatherCriView(choice: CriChoice, warnings: Warnings, scope: CriScope = {}): Promise<CriView | undefined> {
  const {client, problems} = await connectCri(choice)
  for (const problem of problems) warnings.add(`cri:${problem}`, `${problem}; using host files only`)
  if (!client) return undefined
  try {
    return await readCriView(client, scope)
  } catch (error) {
    warnings.add('cri:read', `${client.endpoint}: ${(error as Error).message}; using host files only`)
    return undefined
  } finally {
    client.close()
  }
}

/** Where a snapshot keeps the runtime's view: in full, and as the lists alone (what ps asks for). */
const ANSWER_FULL = 'cri-view.json'
const ANSWER_LISTS = 'cri-view-lists.json'

/**
 * The runtime's view for a command's flags, through the host: asked live, written down by a
 * recording host, replayed by a snapshot. A snapshot holds the full view; one pod's part of it
 * is the same as what a scoped live question returns for that pod.
 */
export async function criViewFor(flags: {'host-root'?: string; 'runtime-endpoint'?: string}, host: Host, scope: CriScope = {}): Promise<CriView | undefined> {
  const name = scope.statuses === false ? ANSWER_LISTS : ANSWER_FULL
  const ask = async () => {
    const view = await gatherCriView({endpoint: flags['runtime-endpoint'], hostRoot: flags['host-root'] ?? host.root}, host.warnings, scope)
    return view && JSON.stringify(view)
  }
  const text = await (host.answer ? host.answer(name, ask) : ask())
  if (text === undefined) return undefined
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    host.warnings.add(`bad:${name}`, `answers/${name}: unreadable (${(error as Error).message}); using host files only`)
    return undefined
  }
  // a snapshot's answer is someone else's file: its shape is checked before anything trusts it
  const problem = criViewProblem(value)
  if (problem === undefined) return value as CriView
  host.warnings.add(`bad:${name}`, `answers/${name}: ${problem}; using host files only`)
  return undefined
}

/** What `nodedoc snapshot` records of the runtime: the full view and the lists. */
export async function gatherCriForSnapshot(host: Host): Promise<void> {
  await criViewFor({}, host)
  await criViewFor({}, host, {statuses: false})
}
