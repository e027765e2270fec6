// `nodedoc compare`: a pod against what its spec implies, or against a reference sandbox.

import type {Host} from '../host/host.js'
import {findPod, gatherPods} from '../pods/pods.js'
import type {PodManifest} from '../sandbox/manifest.js'
import {readManifest, readSandbox} from '../sandbox/service.js'
import {kernelLayer, runtimeLayer} from './gather.js'
import {specLayer} from './model.js'
import {type CompareResult, compareLayers} from './rows.js'

export class CompareError extends Error {}

export interface CompareOptions {
  pod: string
  namespace?: string
  withSandbox?: string
  specPath?: string
}

async function nodeMemory(host: Host): Promise<number> {
  const text = await host.readFile('/proc/meminfo')
  const kb = text && /^MemTotal:\s+(\d+)\s+kB/m.exec(text)
  if (!kb) throw new CompareError('cannot read MemTotal from /proc/meminfo (needed for oom_score_adj)')
  return Number(kb[1]) * 1024
}

export async function comparePod(host: Host, opts: CompareOptions): Promise<CompareResult> {
  if (!opts.withSandbox && !opts.specPath) throw new CompareError('give --with SANDBOX or --spec pod.yaml')
  const lookup = await findPod(host, {name: opts.pod, namespace: opts.namespace})
  if (lookup.kind !== 'found') throw new CompareError(`pod ${opts.namespace ? `${opts.namespace}/` : ''}${opts.pod} ${lookup.kind === 'ambiguous' ? 'is ambiguous: give -n' : 'not found on this node'}`)
  const report = lookup.report
  let manifest: PodManifest
  let reference = null
  let against: string
  if (opts.withSandbox) {
    const state = await readSandbox(opts.withSandbox)
    manifest = state.manifest
    const refReport = (await gatherPods(host)).find((p) => p.uid === state.podUid)
    if (!refReport) throw new CompareError(`sandbox ${opts.withSandbox} is not running (no pod with UID ${state.podUid})`)
    reference = await kernelLayer(host, refReport)
    against = `sandbox ${opts.withSandbox}`
  } else against = `spec ${opts.specPath}`
  if (opts.specPath) manifest = await readManifest(opts.specPath)
  const spec = specLayer(manifest!, await nodeMemory(host))
  const rows = compareLayers(spec, await runtimeLayer(host, report), await kernelLayer(host, report), reference)
  return {pod: {namespace: report.namespace, name: report.name, uid: report.uid}, against, rows, differences: rows.filter((r) => r.differs).length}
}
