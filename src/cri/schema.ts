import * as v from 'valibot'
import {describeIssue} from '../host/snapshot-schema.js'
import type {CriView} from './view.js'

// The documented shape of answers/cri-view.json (a CriView, src/cri/view.ts): a snapshot is
// handed over by someone else, so its answer is checked field by field before any code
// trusts `ips` to be a list.

const text = v.string()
const textOrNull = v.nullable(v.string())
const count = v.pipe(v.number(), v.integer())
const countOrNull = v.nullable(count)
const numberOrNull = v.nullable(v.number())

const sandbox = v.object({
  id: text,
  namespace: textOrNull,
  name: textOrNull,
  uid: textOrNull,
  attempt: count,
  state: v.picklist(['ready', 'notready']),
  createdAt: textOrNull,
  ips: v.array(text),
  pid: countOrNull,
  hostNetwork: v.nullable(v.boolean()),
  netnsPath: textOrNull,
  logDirectory: textOrNull,
  cgroupParent: textOrNull,
  runtimeHandler: text,
})

const container = v.object({
  id: text,
  sandboxId: text,
  name: textOrNull,
  attempt: count,
  state: v.picklist(['created', 'running', 'exited', 'unknown']),
  createdAt: textOrNull,
  startedAt: textOrNull,
  finishedAt: textOrNull,
  exitCode: countOrNull,
  reason: textOrNull,
  image: textOrNull,
  imageRef: textOrNull,
  logPath: textOrNull,
  pid: countOrNull,
  restartCount: count,
  pod: v.object({namespace: textOrNull, name: textOrNull, uid: textOrNull}),
  resources: v.nullable(v.object({
    memoryLimitBytes: numberOrNull,
    cpuShares: numberOrNull,
    cpuQuotaUs: numberOrNull,
    cpuPeriodUs: numberOrNull,
    oomScoreAdj: numberOrNull,
  })),
  cgroupsPath: textOrNull,
})

const CRI_VIEW = v.object({
  endpoint: text,
  runtime: v.object({name: text, version: text, apiVersion: text}),
  sandboxes: v.array(sandbox),
  containers: v.array(container),
})

/** The first problem with a parsed cri-view.json, as "field: problem"; undefined when it is a CriView. */
export function criViewProblem(value: unknown): string | undefined {
  const result = v.safeParse(CRI_VIEW, value)
  return result.success ? undefined : describeIssue(result.issues[0])
}

export function isCriView(value: unknown): value is CriView {
  return criViewProblem(value) === undefined
}

// the schema and the type must say the same thing
export const sameAsType: (value: v.InferOutput<typeof CRI_VIEW>) => CriView = (value) => value
