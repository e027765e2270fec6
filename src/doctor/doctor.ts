import {NodedocError} from '../errors.js'
import type {Host} from '../host/host.js'
import type {Check, CheckResult} from './check.js'
import {CHECKS} from './registry.js'

/** The checks --check names (all when none), or a one-line error naming the unknown ones. */
export function selectChecks(ids: string[] | undefined, checks: Array<Check<unknown>> = CHECKS): Array<Check<unknown>> {
  if (!ids || ids.length === 0) return checks
  const wanted = ids.flatMap((id) => id.split(',')).map((id) => id.trim()).filter(Boolean)
  const unknown = wanted.filter((id) => !checks.some((c) => c.id === id || c.area === id))
  if (unknown.length) throw new NodedocError(`unknown check ${unknown.join(', ')}; known: ${checks.map((c) => c.id).join(', ')}`)
  return checks.filter((c) => wanted.includes(c.id) || wanted.includes(c.area))
}

/** Gather then judge each check; a check whose gathering throws is reported SKIP with the reason. */
export async function runChecks(host: Host, checks: Array<Check<unknown>>): Promise<CheckResult[]> {
  const results: CheckResult[] = []
  for (const check of checks) {
    let verdict
    try {
      verdict = check.evaluate(await check.gather(host))
    } catch (error) {
      verdict = {status: 'SKIP' as const, seen: `could not run: ${(error as Error).message.split('\n')[0]}`}
    }
    results.push({id: check.id, area: check.area, title: check.title, status: verdict.status, seen: verdict.seen, why: check.why, fix: verdict.fix ?? null, ...(verdict.items ? {items: verdict.items} : {})})
  }
  return results
}

/** For `nodedoc snapshot`: every check's gathering, so `doctor --from` sees the same facts. */
export async function gatherDoctorFacts(host: Host): Promise<Record<string, unknown>> {
  const facts: Record<string, unknown> = {}
  for (const check of CHECKS) facts[check.id] = await check.gather(host).catch((error: Error) => ({error: error.message}))
  return facts
}
