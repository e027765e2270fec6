// Lines up the layers row by row and explains each difference in a sentence.

import {capabilityNames} from './capabilities.js'
import type {LayerContainer, LayerPod} from './model.js'

export interface CompareRow {
  /** "pod" or the container name */
  scope: string
  row: string
  spec: string | null
  runtime: string | null
  kernel: string | null
  /** --with: the sandbox's kernel values */
  reference?: string | null
  differs: boolean
  explanation: string | null
}

export interface CompareResult {
  pod: {namespace: string | null; name: string | null; uid: string}
  against: string
  rows: CompareRow[]
  differences: number
}

type Explain = (expected: string, found: string) => string

const EXPLAIN: Record<string, Explain> = {
  qos: (e, f) => `QoS class is ${f}, the requests and limits make it ${e}: the pod cgroup sits under a different parent`,
  network: (e, f) => `network is "${f}" where "${e}" was expected${/without a \/32/.test(f) ? ': a bridge CNI routes the whole range to the bridge, not each pod to its veth' : ''}`,
  'pid 1': (e, f) => `the main process runs "${f}", not "${e}" (an exec in a script, or the image entrypoint)`,
  'memory limit': (e, f) => `memory limit ${f} where the kubelet sets ${e} (the limit, or the sum of all limits at pod level)`,
  'cpu.shares': (e, f) => `cpu.shares ${f} where the kubelet's formula gives ${e} (max(2, request millicores * 1024 / 1000))`,
  'cpu quota': (e, f) => `CFS quota ${f} where the kubelet's formula gives ${e} (limit millicores * 100000 / 1000 per 100 ms)`,
  oom_score_adj: (e, f) => `oom_score_adj is ${f}, the QoS policy says ${e}${Number(e) < 0 ? ' (lowering it needs CAP_SYS_RESOURCE, which this node lacks)' : ''}`,
  'capabilities (CapEff)': (e, f) => {
    const have = new Set(capabilityNames(f))
    const want = new Set(capabilityNames(e))
    const added = [...have].filter((c) => !want.has(c))
    const dropped = [...want].filter((c) => !have.has(c))
    return `capabilities differ from the default set${added.length ? `; added: ${added.join(', ')}` : ''}${dropped.length ? `; dropped: ${dropped.join(', ')}` : ''}`
  },
  no_new_privs: (e, f) => `no_new_privs is ${f}, expected ${e}: ${f === '0' ? 'containerd sets it only for allowPrivilegeEscalation: false, the reference pod always does' : 'set although the reference would not'}`,
  seccomp: (e, f) => `seccomp mode ${f} (${f === '2' ? 'filter: a RuntimeDefault or custom profile' : 'none'}), expected ${e}`,
  user: (e, f) => `runs as uid ${f}, the spec implies ${e}`,
}

function explainNamespace(ns: string): Explain {
  const what: Record<string, string> = {sandbox: "shared with the pod's pause process", host: "the node's own", own: 'a namespace of its own'}
  return (e, f) => `${ns} namespace is ${what[f] ?? f}, expected ${what[e] ?? e}`
}

function explainMount(dest: string): Explain {
  return (e, f) => {
    if (e === '-') return `${dest} is mounted (${f}) beyond what the spec implies (the kubelet's service account token and termination log, or the runtime's defaults)`
    if (f === '-') return `${dest} is not mounted, the spec implies it (${e})`
    return `${dest} is mounted ${f}, expected ${e}`
  }
}

function explain(row: string, expected: string, found: string): string {
  if (row.startsWith('mount ')) return explainMount(row.slice(6))(expected, found)
  if (row.endsWith(' namespace')) return explainNamespace(row.split(' ')[0])(expected, found)
  return (EXPLAIN[row] ?? ((e, f) => `${row}: ${f}, expected ${e}`))(expected, found)
}

const CONTAINER_ROWS: Array<[string, (c: LayerContainer) => string | null]> = [
  ['net namespace', (c) => c.namespaces.net],
  ['ipc namespace', (c) => c.namespaces.ipc],
  ['uts namespace', (c) => c.namespaces.uts],
  ['pid namespace', (c) => c.namespaces.pid],
  ['mnt namespace', (c) => c.namespaces.mnt],
  ['pid 1', (c) => c.pid1],
  ['memory limit', (c) => c.memoryLimit],
  ['cpu.shares', (c) => c.cpuShares],
  ['cpu quota', (c) => c.cpuQuota],
  ['oom_score_adj', (c) => c.oomScoreAdj],
  ['capabilities (CapEff)', (c) => c.capEff],
  ['no_new_privs', (c) => c.noNewPrivs],
  ['seccomp', (c) => c.seccomp],
  ['user', (c) => c.user],
]

/**
 * Rows for every field the layers know. The expected value is the reference (the sandbox's
 * kernel, with --with) when there is one, else the spec; a row differs when the kernel (or,
 * where the kernel cannot say, the runtime) disagrees with it.
 */
export function compareLayers(spec: LayerPod, runtime: LayerPod | null, kernel: LayerPod, reference: LayerPod | null = null): CompareRow[] {
  const rows: CompareRow[] = []
  const add = (scope: string, row: string, s: string | null, r: string | null, k: string | null, ref: string | null | undefined) => {
    const expected = reference ? (ref ?? null) : s
    const found = k ?? r
    const differs = expected !== null && found !== null && expected !== found
    const entry: CompareRow = {scope, row, spec: s, runtime: r, kernel: k, differs, explanation: differs ? explain(row, expected!, found!) : null}
    if (reference) entry.reference = ref ?? null
    rows.push(entry)
  }
  add('pod', 'qos', spec.qos, runtime?.qos ?? null, kernel.qos, reference?.qos)
  add('pod', 'network', spec.network, runtime?.network ?? null, kernel.network, reference?.network)
  add('pod', 'memory limit', spec.memoryLimit, null, kernel.memoryLimit, reference?.memoryLimit)
  add('pod', 'cpu.shares', spec.cpuShares, null, kernel.cpuShares, reference?.cpuShares)
  add('pod', 'cpu quota', spec.cpuQuota, null, kernel.cpuQuota, reference?.cpuQuota)

  const names = [...new Set([...spec.containers, ...kernel.containers, ...(reference?.containers ?? [])].map((c) => c.name))]
  for (const name of names) {
    const s = spec.containers.find((c) => c.name === name)
    const r = runtime?.containers.find((c) => c.name === name)
    const k = kernel.containers.find((c) => c.name === name)
    const ref = reference?.containers.find((c) => c.name === name)
    const expectedHas = reference ? ref : s
    if (!expectedHas || !k) {
      rows.push({scope: name, row: 'container', spec: s ? 'present' : '-', runtime: r ? 'present' : null, kernel: k ? 'running' : '-', ...(reference ? {reference: ref ? 'running' : '-'} : {}), differs: true, explanation: !k ? `container ${name} is in the ${reference ? 'reference' : 'spec'} but not running in the pod` : `container ${name} runs in the pod but is not in the ${reference ? 'reference' : 'spec'}`})
      continue
    }
    for (const [row, pick] of CONTAINER_ROWS) add(name, row, s ? pick(s) : null, r ? pick(r) : null, pick(k), ref ? pick(ref) : undefined)
    const dests = [...new Set([...Object.keys(s?.mounts ?? {}), ...Object.keys(r?.mounts ?? {}), ...Object.keys(k.mounts ?? {}), ...Object.keys(ref?.mounts ?? {})])].sort()
    for (const dest of dests) {
      const at = (c: LayerContainer | undefined) => (c?.mounts ? (c.mounts[dest] ?? '-') : null)
      add(name, `mount ${dest}`, s ? at(s) : null, r ? at(r) : null, at(k), ref ? at(ref) : undefined)
    }
  }
  return rows
}
