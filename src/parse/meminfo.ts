// /proc/meminfo: "Key:   value kB" lines.

/** MemTotal in bytes; undefined when the line is missing. */
export function parseMemTotal(text: string): number | undefined {
  const kb = /^MemTotal:\s+(\d+)\s+kB/m.exec(text)
  return kb ? Number(kb[1]) * 1024 : undefined
}
