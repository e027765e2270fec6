// Recognises the JSON that `nodedoc ... -o json` printed on one node. Pure: a parsed document
// in, a typed per-node record out, or the reason it is not one nodedoc report report knows.
// Shapes are matched by structure, not by a version field, so a report written by a newer or
// older nodedoc is still read as far as its fields allow.

export type CheckStatus = 'FAIL' | 'WARN' | 'PASS' | 'SKIP'

export interface NodeCheck {
  name: string
  status: CheckStatus
  message: string | null
}

export interface NodeEndpoint {
  ip: string
  port: number | null
  /** Why this node cannot reach it; empty when it can. */
  problems: string[]
}

export interface NodeService {
  service: string
  /** "DNAT", or what a new connection gets instead (REJECT...). */
  verdict: string
  problems: string[]
  endpoints: NodeEndpoint[]
}

export interface NodePod {
  namespace: string | null
  name: string | null
  uid: string
}

export type NodeDocument =
  | {kind: 'doctor'; node: string | null; checks: NodeCheck[]}
  | {kind: 'svc'; node: string | null; services: NodeService[]}
  | {kind: 'pods'; node: string | null; pods: NodePod[]}

export type Recognised = {ok: true; doc: NodeDocument} | {ok: false; reason: string}

type Json = Record<string, unknown>

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null)

/** The node a document says it came from, when it says so (hostname, node, meta.hostname...). */
export function nodeNameOf(doc: unknown): string | null {
  if (!isObject(doc)) return null
  for (const key of ['node', 'nodeName', 'hostname', 'host']) {
    const value = doc[key]
    if (str(value)) return value as string
    if (isObject(value) && str(value.name)) return value.name as string
  }
  for (const key of ['meta', 'metadata']) {
    const inner = doc[key]
    if (isObject(inner)) {
      const found = nodeNameOf(inner)
      if (found) return found
    }
  }
  return null
}

const STATUS_WORDS: Record<string, CheckStatus> = {
  fail: 'FAIL', failed: 'FAIL', error: 'FAIL', bad: 'FAIL', critical: 'FAIL', false: 'FAIL',
  warn: 'WARN', warning: 'WARN',
  pass: 'PASS', passed: 'PASS', ok: 'PASS', good: 'PASS', true: 'PASS',
  skip: 'SKIP', skipped: 'SKIP', na: 'SKIP', 'n/a': 'SKIP', unknown: 'SKIP', info: 'SKIP',
}

function checkOf(item: unknown): NodeCheck | undefined {
  if (!isObject(item)) return undefined
  const name = str(item.id) ?? str(item.name) ?? str(item.check) ?? str(item.title)
  const raw = item.status ?? item.result ?? item.verdict ?? item.level ?? item.ok ?? item.passed
  const status = STATUS_WORDS[String(raw).toLowerCase()]
  if (!name || !status) return undefined
  const message = str(item.message) ?? str(item.seen) ?? str(item.detail) ?? str(item.summary) ?? str(item.reason) ?? str(item.hint)
  return {name, status, message}
}

function recogniseDoctor(doc: unknown): NodeDocument | undefined {
  const list = Array.isArray(doc) ? doc : isObject(doc) && Array.isArray(doc.checks) ? doc.checks : undefined
  if (!list || list.length === 0) return undefined
  const checks = list.map(checkOf)
  if (checks.some((c) => c === undefined)) return undefined
  return {kind: 'doctor', node: nodeNameOf(doc), checks: checks as NodeCheck[]}
}

function endpointOf(item: unknown): NodeEndpoint | undefined {
  if (!isObject(item) || !str(item.ip)) return undefined
  const problems = Array.isArray(item.problems) ? item.problems.map(String) : []
  // an endpoint this node has no route to is unreachable from here whatever the rules say
  if (item.location === 'remote' && item.route === null) problems.push(`no route to ${item.ip}`)
  return {ip: item.ip as string, port: typeof item.port === 'number' ? item.port : null, problems}
}

function serviceOf(item: unknown): NodeService | undefined {
  if (!isObject(item) || !Array.isArray(item.endpoints)) return undefined
  const endpoints = [...item.endpoints, ...(Array.isArray(item.localEndpoints) ? item.localEndpoints : [])].map(endpointOf)
  if (endpoints.some((e) => e === undefined)) return undefined
  const frontend = Array.isArray(item.frontends) && isObject(item.frontends[0]) ? item.frontends[0] : undefined
  const name = str(item.service) ?? (frontend ? `${frontend.ip ?? '*'}:${frontend.port}` : null) ?? str(item.chain)
  if (!name) return undefined
  const unique = new Map((endpoints as NodeEndpoint[]).map((e) => [`${e.ip}:${e.port}`, e]))
  return {
    service: name,
    verdict: str(item.verdict) ?? 'DNAT',
    problems: Array.isArray(item.problems) ? item.problems.map(String) : [],
    endpoints: [...unique.values()],
  }
}

function recogniseSvc(doc: unknown): NodeDocument | undefined {
  // one report ({mode, services: [...]}), several (one per rule set), or a bare service list
  const reports = Array.isArray(doc) && doc.every((d) => isObject(d) && Array.isArray(d.services)) ? doc : [doc]
  const services: NodeService[] = []
  for (const report of reports) {
    const list = isObject(report) && Array.isArray(report.services) ? report.services : Array.isArray(report) ? report : undefined
    if (!list) return undefined
    for (const item of list) {
      const service = serviceOf(item)
      if (!service) return undefined
      services.push(service)
    }
  }
  if (services.length === 0 && !(isObject(doc) && Array.isArray(doc.services))) return undefined
  return {kind: 'svc', node: nodeNameOf(Array.isArray(doc) ? doc[0] : doc), services}
}

function podOf(item: unknown): NodePod | undefined {
  if (!isObject(item)) return undefined
  // pod -o json (a PodReport) or a ps row ({pid, pod: {...}})
  const pod = typeof item.pid === 'number' ? item.pod : item
  if (pod === null && typeof item.pid === 'number') return {namespace: null, name: null, uid: ''}
  if (!isObject(pod) || !str(pod.uid)) return undefined
  return {namespace: str(pod.namespace), name: str(pod.name), uid: pod.uid as string}
}

function recognisePods(doc: unknown): NodeDocument | undefined {
  const list = Array.isArray(doc) ? doc : [doc]
  if (list.length === 0) return undefined
  const pods = list.map(podOf)
  if (pods.some((p) => p === undefined)) return undefined
  const unique = new Map((pods as NodePod[]).filter((p) => p.uid).map((p) => [p.uid, p]))
  return {kind: 'pods', node: nodeNameOf(list[0]), pods: [...unique.values()]}
}

/**
 * nodedoc's own documents (docs/schema.md) carry apiVersion, kind, node and, for lists, items:
 * a list is judged by its items, and named by the node the envelope names.
 */
function unwrap(doc: unknown): {body: unknown; node: string | null} {
  if (isObject(doc) && typeof doc.apiVersion === 'string' && doc.apiVersion.startsWith('nodedoc/') && Array.isArray(doc.items)) {
    return {body: doc.items, node: str(doc.node)}
  }
  return {body: doc, node: null}
}

/** What kind of nodedoc report a parsed JSON document is, or why it is none. */
export function recognise(doc: unknown): Recognised {
  const {body, node} = unwrap(doc)
  for (const attempt of [recogniseDoctor, recogniseSvc, recognisePods]) {
    const found = attempt(body)
    if (found) return {ok: true, doc: {...found, node: node ?? found.node}}
  }
  const what = Array.isArray(doc) ? `a list of ${doc.length}` : isObject(doc) ? `an object with keys ${Object.keys(doc).slice(0, 5).join(', ') || '(none)'}` : typeof doc
  return {ok: false, reason: `not doctor, svc, pod or ps JSON (${what})`}
}
