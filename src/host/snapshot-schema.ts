import * as v from 'valibot'
import {type SnapshotMeta, SNAPSHOT_FORMAT} from './snapshot-layout.js'
import type {FileStat} from './host.js'

// The documented shape of a snapshot's own files (docs/snapshot.md), checked when a snapshot
// is opened: a snapshot may come from anyone, and a wrong one is named in one line instead of
// failing later, deep in a command, with a message about something else.

const META = v.object({
  format: v.pipe(v.number(), v.check((n) => n === SNAPSHOT_FORMAT, `nodedoc reads format ${SNAPSHOT_FORMAT}`)),
  hostname: v.optional(v.string(), 'unknown'),
  kernel: v.optional(v.string(), 'unknown'),
  capturedAt: v.optional(v.string(), ''),
  nodedocVersion: v.optional(v.string(), ''),
  hostRoot: v.optional(v.string(), '/'),
})

const STAT = v.record(v.pipe(v.string(), v.startsWith('/')), v.object({
  kind: v.picklist(['file', 'dir', 'link', 'other']),
  size: v.pipe(v.number(), v.integer(), v.minValue(0)),
  mtimeMs: v.number(),
  ino: v.pipe(v.number(), v.integer(), v.minValue(0)),
}))

/** "sandboxes.0.ips: expected Array, got undefined" */
export function describeIssue(issue: v.BaseIssue<unknown>): string {
  const where = v.getDotPath(issue)
  const said = issue.type === 'check' ? `${issue.message} (got ${issue.received})` : issue.received === 'undefined' ? 'missing' : issue.expected ? `expected ${issue.expected}, got ${issue.received}` : issue.message
  return `${where ? where + ': ' : ''}${said}`
}

export class SchemaError extends Error {}

function parsed<T>(schema: v.GenericSchema<unknown, T>, text: string, file: string): T {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new SchemaError(`${file}: not JSON (${(error as Error).message})`)
  }
  const result = v.safeParse(schema, value)
  if (!result.success) throw new SchemaError(`${file}: ${describeIssue(result.issues[0])}`)
  return result.output
}

export function parseMeta(text: string, file: string): SnapshotMeta {
  return parsed(META, text, file)
}

export function parseStats(text: string, file: string): Record<string, FileStat> {
  return parsed(STAT, text, file)
}

/** cmd/<argv>.exit: one integer. */
export function parseExitCode(text: string, file: string): number {
  if (!/^\s*-?\d{1,10}\s*$/.test(text)) throw new SchemaError(`${file}: not an exit code (want one integer, got "${text.slice(0, 20)}")`)
  return Number.parseInt(text, 10)
}
