// iproute2's JSON (`ip -j ...`) as untrusted input: a snapshot's cmd/ file or a captured
// output may hold any JSON at all. These read fields by type, so a wrong shape gives a clear
// error or a skipped element, never a TypeError deep inside a parser.

export class JsonShapeError extends Error {}

/** The top-level array of a JSON document; JsonShapeError when it is not JSON or not an array. */
export function jsonArray(text: string, what: string): unknown[] {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new JsonShapeError(`${what}: not JSON (${(error as Error).message})`)
  }
  if (!Array.isArray(value)) throw new JsonShapeError(`${what}: not a JSON array (${value === null ? 'null' : typeof value})`)
  return value
}

/** An element as a record of fields, or undefined when it is not an object. */
export function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

export function int(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) ? value : undefined
}
