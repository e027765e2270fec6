// The records `nodedoc why` reports. JSON keys are part of the schema: add, never rename.

export type LinkStatus = 'ok' | 'BROKEN' | 'unknown'

/** One link of a chain, as judged. */
export interface LinkResult {
  name: string
  status: LinkStatus
  /** What was read: files, rules, routes, processes, each with what it said. */
  evidence: string[]
  /** One line: what holds, or what is broken. */
  detail: string
  /** How to repair it; null unless BROKEN. */
  fix: string | null
}

export interface WhyVerdict {
  /** The first BROKEN link; null when every link holds. */
  link: string | null
  reason: string
  fix: string | null
}

export interface WhyReport {
  apiVersion: 'nodedoc/v1'
  kind: 'Why'
  /** "dns lookups from default/client", "default/client -> kube-system/kube-dns:dns", "pod default/web" */
  symptom: string
  verdict: WhyVerdict
  links: LinkResult[]
}

/** What a link's check returns. */
export type Judgement = Omit<LinkResult, 'name'>

/**
 * One link of a chain, as data: its name and the check that reads host truth through the
 * context's Host (and what earlier links put there) and judges it.
 */
export interface Link<C> {
  name: string
  check(context: C): Promise<Judgement>
}

export const ok = (detail: string, evidence: string[] = []): Judgement => ({status: 'ok', evidence, detail, fix: null})
export const broken = (detail: string, fix: string, evidence: string[] = []): Judgement => ({status: 'BROKEN', evidence, detail, fix})
export const unknown = (detail: string, evidence: string[] = []): Judgement => ({status: 'unknown', evidence, detail, fix: null})
/** A link whose input an earlier link could not give. */
export const notReached = (needs: string): Judgement => unknown(`not reached: ${needs}`)
