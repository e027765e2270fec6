// Kubernetes resource quantities ("100m", "0.5", "200Mi", "1G", "1e3"), parsed the way the API
// server does for the two resources a sandbox uses: CPU in millicores, memory in bytes.

const BINARY: Record<string, number> = {Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60}
const DECIMAL: Record<string, number> = {n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18}

const QUANTITY = /^([+-]?[0-9]+(?:\.[0-9]*)?|[+-]?\.[0-9]+)(?:(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])|([eE][+-]?[0-9]+))?$/

/** The quantity's value in base units, or undefined when the text is not a quantity. */
export function parseQuantity(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) ? text : undefined
  const match = QUANTITY.exec(text.trim())
  if (!match) return undefined
  const [, number, suffix, exponent] = match
  const value = Number.parseFloat(number)
  if (exponent) return value * 10 ** Number.parseInt(exponent.slice(1), 10)
  if (suffix && suffix in BINARY) return value * BINARY[suffix]
  return value * DECIMAL[suffix ?? '']
}

/** CPU as millicores, rounded up like the API server does ("0.0001" -> 1m). */
export function milliCpu(text: string | number): number | undefined {
  const cores = parseQuantity(text)
  if (cores === undefined || cores < 0) return undefined
  return Math.ceil(Math.round(cores * 1e6) / 1e3)
}

/** Memory as whole bytes, rounded up ("0.5Ki" -> 512, "1m" -> 1). */
export function memoryBytes(text: string | number): number | undefined {
  const value = parseQuantity(text)
  if (value === undefined || value < 0) return undefined
  return Math.ceil(Math.round(value * 1e6) / 1e6)
}
