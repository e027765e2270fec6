// `nodedoc compare`: a pod against what its spec implies on this node, or against a reference
// sandbox's kernel state. Everything about the node is read through the Host (live or snapshot);
// the manifest given with --spec is the operator's own file, read where nodedoc runs.

import {resolve} from 'node:path'
import type {Host} from '../host/host.js'
import {LiveHost} from '../host/live.js'
import {findPod, gatherPods} from '../pods/pods.js'
import {ManifestError, type PodManifest, parsePodManifest} from '../sandbox/manifest.js'
import {CompareError, gatherPodFacts, kernelLayer, readSandboxState, runtimeLayer, sandboxOfPod} from './gather.js'
import {gatherNodeReadings, nodeFacts} from './node-facts.js'
import {type CompareResult, type Reference, compareLayers} from './rows.js'
import {STATE_ROOT} from '../sandbox/state.js'
import {specLayer} from './spec.js'

export {CompareError} from './gather.js'

export interface CompareOptions {
  pod: string
  namespace?: string
  withSandbox?: string
  specPath?: string
  cwd?: string
}

/** Reads and parses the --spec manifest: any volume kind, since a real pod's manifest has them. */
export async function readSpecManifest(path: string, cwd = process.cwd()): Promise<PodManifest> {
  const text = await new LiveHost('/').readFile(resolve(cwd, path))
  if (text === undefined) throw new CompareError(`${path}: cannot read the manifest`, 2)
  try {
    return parsePodManifest(text, path, {anyVolume: true})
  } catch (error) {
    if (error instanceof ManifestError) throw new CompareError(error.message, 2)
    throw error
  }
}

export async function comparePod(host: Host, opts: CompareOptions): Promise<CompareResult> {
  if (!opts.withSandbox && !opts.specPath) throw new CompareError('give --with SANDBOX or --spec pod.yaml', 2)
  const given = opts.specPath ? await readSpecManifest(opts.specPath, opts.cwd) : undefined
  const state = opts.withSandbox ? await readSandboxState(host, opts.withSandbox) : undefined
  const lookup = await findPod(host, {name: opts.pod, namespace: opts.namespace})
  if (lookup.kind !== 'found') throw new CompareError(`pod ${opts.namespace ? `${opts.namespace}/` : ''}${opts.pod} ${lookup.kind === 'ambiguous' ? 'is ambiguous: give -n' : `not found on ${host.description}`}`)
  const report = lookup.report
  const readings = await gatherNodeReadings(host)
  const node = {...nodeFacts(readings, report.runtime), sandbox: await sandboxOfPod(host, report.uid)}
  const facts = await gatherPodFacts(host, report)
  const runtime = runtimeLayer(facts, node)
  const kernel = kernelLayer(facts, node)

  let reference: Reference | null = null
  if (state && opts.withSandbox) {
    const refReport = (await gatherPods(host)).find((p) => p.uid === state.podUid)
    if (!refReport) throw new CompareError(`sandbox ${opts.withSandbox} is not running on ${host.description} (no pod with UID ${state.podUid})`)
    reference = {name: opts.withSandbox, layer: kernelLayer(await gatherPodFacts(host, refReport), node)}
  }
  const manifest = given ?? state!.manifest
  const imageUsers = new Map(facts.containers.map((c) => [c.name, c.config?.user?.uid ?? null]))
  const rows = compareLayers(specLayer(manifest, node, imageUsers), runtime, kernel, reference)
  const against = [opts.specPath ? `spec ${opts.specPath}` : null, opts.withSandbox ? `sandbox ${opts.withSandbox}` : null].filter(Boolean).join(' and ')
  return {pod: {namespace: report.namespace, name: report.name, uid: report.uid}, against, rows, differences: rows.filter((r) => r.differs).length}
}

/** For `nodedoc snapshot`: everything compare reads, for every pod and every sandbox. */
export async function gatherCompareFacts(host: Host): Promise<unknown> {
  const readings = await gatherNodeReadings(host)
  const pods = await gatherPods(host)
  const states = []
  for (const entry of (await host.readDir(STATE_ROOT)) ?? []) {
    if (entry.kind === 'dir') states.push((await host.readFile(`${STATE_ROOT}/${entry.name}/state.json`)) !== undefined ? entry.name : null)
  }
  const facts = await Promise.all(pods.map((p) => gatherPodFacts(host, p)))
  return {readings, sandboxes: states.filter(Boolean), pods: facts.map((f) => ({uid: f.report.uid, containers: f.containers.map((c) => c.name)}))}
}
