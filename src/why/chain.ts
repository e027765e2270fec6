import type {Judgement, Link, LinkResult, WhyReport} from './types.js'

/**
 * Runs every link in order (a later link may still say something useful about a broken chain,
 * e.g. ip_forward off as well as a dead endpoint); the first BROKEN one is the verdict. A link
 * that throws is unknown, with the reason, and the chain goes on.
 */
export async function runChain<C>(symptom: string, links: Array<Link<C>>, context: C): Promise<WhyReport> {
  const results: LinkResult[] = []
  for (const link of links) {
    let judged: Judgement
    try {
      judged = await link.check(context)
    } catch (error) {
      judged = {status: 'unknown', evidence: [], detail: `could not be read: ${(error as Error).message.split('\n')[0]}`, fix: null}
    }
    results.push({name: link.name, ...judged})
  }
  const first = results.find((r) => r.status === 'BROKEN')
  const verdict = first
    ? {link: first.name, reason: first.detail, fix: first.fix}
    : {link: null, reason: results.some((r) => r.status === 'unknown') ? 'no link is broken (some could not be judged: see unknown)' : 'every link holds', fix: null}
  return {apiVersion: 'nodedoc/v1', kind: 'Why', symptom, verdict, links: results}
}
