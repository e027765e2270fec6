// Lines up the layers row by row. The expected value is the spec's (what the kubelet and the
// runtime make of the manifest on this node) or, with --with, the reference sandbox's kernel. A
// row differs when the kernel disagrees with it, or when the kernel disagrees with what the
// runtime's own config asked for; each difference gets one sentence.

import {bytes} from '../output/table.js'
import {CONTAINER_ROWS, type LayerContainer, type LayerPod, POD_ROWS, type SpecContainer, type SpecPod, type Value} from './layers.js'

export interface CompareRow {
  /** "pod" or the container name */
  scope: string
  row: string
  spec: Value
  runtime: Value
  kernel: Value
  /** --with: the sandbox's kernel values */
  reference?: Value
  differs: boolean
  /** where the spec's value comes from */
  basis: string | null
  explanation: string | null
}

export interface CompareResult {
  pod: {namespace: string | null; name: string | null; uid: string}
  against: string
  rows: CompareRow[]
  differences: number
}

export interface Reference {
  name: string
  layer: LayerPod
}

const BYTE_ROWS = new Set(['memory limit'])
/** A process may exec after it starts: its command is checked against what the runtime was told (the kernel's only when no runtime config says). */
const RUNTIME_ONLY = new Set(['command'])

/** A value as a person reads it: sizes humanized. */
export function shown(row: string, value: Value): string {
  if (value === null) return '-'
  if (BYTE_ROWS.has(row) && /^\d+$/.test(value)) return bytes(Number(value)) ?? value
  return value
}

function sentence(scope: string, row: string, expected: string, found: string, why: string | null, fromKernel: boolean): string {
  const e = shown(row, expected)
  const f = shown(row, found)
  const because = why ? `: ${why}` : ''
  if (row.startsWith('mount ')) {
    const dest = row.slice(6)
    if (found === '-') return `${dest} is not mounted; expected ${e}${because}`
    if (expected === '-') return `${dest} is mounted ${f}, but neither the spec, the kubelet nor the runtime's defaults put a mount there`
    return `${dest} is mounted ${f}, expected ${e}${because}`
  }
  if (scope === 'pod' && row === 'qos') return `the pod cgroup sits under the ${f} parent, expected ${e}${because}`
  if (row === 'command') return `${fromKernel ? 'the main process runs' : 'the runtime was told to run'} "${f}", the spec says "${e}"`
  return `${row} is ${f}, expected ${e}${because}`
}

function referenceSentence(row: string, name: string, expected: string, found: string, spec: Value, why: string | null): string {
  const label = row.startsWith('mount ') ? `${row.slice(6)} is ${found === '-' ? 'not mounted' : `mounted ${found}`}` : `${row} is ${shown(row, found)}`
  const other = row.startsWith('mount ') ? (expected === '-' ? 'none' : expected) : shown(row, expected)
  const own = spec === found ? `; the spec implies ${shown(row, spec)} too${why ? ` (${why})` : ''}: the difference is the sandbox's own choice` : ''
  return `${label}; sandbox ${name} has ${other}${own}`
}

/** The runtime's config and the kernel disagree: whatever the spec says, that is real. */
function runtimeSentence(row: string, runtime: string, kernel: string): string {
  if (row.startsWith('mount ')) {
    const dest = row.slice(6)
    if (runtime === '-') return `${dest} is mounted ${kernel} although the runtime's config has no mount there`
    if (kernel === '-') return `${dest} is in the runtime's config (${runtime}) but not mounted`
    return `${dest} is mounted ${kernel} although the runtime's config asks for ${runtime}`
  }
  return `${row} is ${shown(row, kernel)} although the runtime's config asks for ${shown(row, runtime)}`
}

interface Cell {
  scope: string
  row: string
  spec: Value
  runtime: Value
  kernel: Value
  reference: Value | undefined
  why: string | null
  optional?: string
}

function judge(cell: Cell, reference: Reference | null): CompareRow {
  const {scope, row, spec, runtime, kernel, why} = cell
  const out: CompareRow = {scope, row, spec, runtime, kernel, differs: false, basis: why, explanation: null}
  if (reference) {
    out.reference = cell.reference ?? null
    const expected = cell.reference ?? null
    if (expected !== null && kernel !== null && expected !== kernel) {
      out.differs = true
      out.explanation = referenceSentence(row, reference.name, expected, kernel, spec, why)
    }
    return out
  }
  const fromKernel = RUNTIME_ONLY.has(row) ? runtime === null : kernel !== null
  const found = RUNTIME_ONLY.has(row) ? (runtime ?? kernel) : (kernel ?? runtime)
  if (spec !== null && found !== null && spec !== found) {
    if (cell.optional && found === '-') out.basis = `${why ?? ''}; absent here, which is allowed: ${cell.optional}`
    else {
      out.differs = true
      out.explanation = sentence(scope, row, spec, found, why, fromKernel)
    }
  }
  if (!out.differs && !RUNTIME_ONLY.has(row) && runtime !== null && kernel !== null && runtime !== kernel) {
    out.differs = true
    out.explanation = runtimeSentence(row, runtime, kernel)
  }
  return out
}

function missingContainer(name: string, s: LayerContainer | undefined, r: LayerContainer | undefined, k: LayerContainer | undefined, ref: LayerContainer | undefined, reference: Reference | null): CompareRow {
  const where = reference ? `sandbox ${reference.name}` : 'spec'
  return {
    scope: name, row: 'container', spec: s ? 'present' : '-', runtime: r ? 'present' : null, kernel: k ? 'running' : '-',
    ...(reference ? {reference: ref ? 'running' : '-'} : {}),
    differs: true, basis: null,
    explanation: !k ? `container ${name} is in the ${where} but not running in the pod` : `container ${name} runs in the pod but is not in the ${where}`,
  }
}

export function compareLayers(spec: SpecPod, runtime: LayerPod | null, kernel: LayerPod, reference: Reference | null = null): CompareRow[] {
  const rows: CompareRow[] = []
  const ref = reference?.layer
  for (const row of POD_ROWS) {
    rows.push(judge({scope: 'pod', row, spec: spec.rows[row], runtime: runtime?.rows[row] ?? null, kernel: kernel.rows[row], reference: ref?.rows[row], why: spec.why[row] ?? null}, reference))
  }
  const names = [...new Set([...spec.containers, ...kernel.containers, ...(ref?.containers ?? [])].map((c) => c.name))]
  for (const name of names) {
    const s = spec.containers.find((c) => c.name === name) as SpecContainer | undefined
    const r = runtime?.containers.find((c) => c.name === name)
    const k = kernel.containers.find((c) => c.name === name)
    const rf = ref?.containers.find((c) => c.name === name)
    if (!(reference ? rf : s) || !k) {
      rows.push(missingContainer(name, s, r, k, rf, reference))
      continue
    }
    for (const row of CONTAINER_ROWS) {
      rows.push(judge({scope: name, row, spec: s?.rows[row] ?? null, runtime: r?.rows[row] ?? null, kernel: k.rows[row], reference: rf?.rows[row], why: s?.why[row] ?? null}, reference))
    }
    const dests = [...new Set([s?.mounts, r?.mounts, k.mounts, rf?.mounts].flatMap((m) => Object.keys(m ?? {})))].sort()
    for (const dest of dests) {
      const at = (c: LayerContainer | undefined) => (c?.mounts ? (c.mounts[dest] ?? '-') : null)
      rows.push(judge({
        scope: name, row: `mount ${dest}`, spec: at(s), runtime: at(r), kernel: at(k), reference: rf ? at(rf) : undefined,
        why: s?.mountWhy[dest] ?? null, optional: s?.optionalMounts[dest],
      }, reference))
    }
  }
  return rows
}
