import type {Host} from '../host/host.js'

export type CheckStatus = 'PASS' | 'WARN' | 'FAIL' | 'SKIP'

/** What a check found: its verdict, what it saw, and (unless PASS) the fix. */
export interface Verdict {
  status: CheckStatus
  seen: string
  fix?: string
  /** per-item details for -o json (pods, files, processes) */
  items?: unknown[]
}

/** One line of `nodedoc doctor`. */
export interface CheckResult {
  id: string
  area: string
  title: string
  status: CheckStatus
  seen: string
  why: string
  fix: string | null
  items?: unknown[]
}

/**
 * A check is two halves: gather reads the node through the Host, evaluate is pure and is what
 * the unit tests feed with captured facts.
 */
export interface Check<F> {
  id: string
  area: 'prereqs' | 'kernel' | 'runtime' | 'pods' | 'pressure' | 'control-plane'
  title: string
  /** why it matters to a Kubernetes node, one sentence */
  why: string
  gather(host: Host): Promise<F>
  evaluate(facts: F): Verdict
}

export const pass = (seen: string, items?: unknown[]): Verdict => ({status: 'PASS', seen, items})
export const skip = (seen: string): Verdict => ({status: 'SKIP', seen})
export const warn = (seen: string, fix: string, items?: unknown[]): Verdict => ({status: 'WARN', seen, fix, items})
export const fail = (seen: string, fix: string, items?: unknown[]): Verdict => ({status: 'FAIL', seen, fix, items})

/** "a, b, c and 4 more" */
export function listOf(things: string[], max = 3): string {
  if (things.length <= max) return things.join(', ')
  return `${things.slice(0, max).join(', ')} and ${things.length - max} more`
}

export function percent(used: number, total: number): number {
  return total > 0 ? Math.round((used / total) * 1000) / 10 : 0
}

/** A kernel table's fill level: FAIL from 90% (new entries about to be refused), WARN from 75%. */
export function byFill(used: number, seen: string, fix: string): Verdict {
  if (used >= 90) return fail(seen, fix)
  if (used >= 75) return warn(seen, fix)
  return pass(seen)
}
