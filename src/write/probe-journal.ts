// What a probe or a trace adds to the node, written down before it is added (the sandbox's
// rollback discipline): a later run can remove what a killed one left. Each entry names exactly
// one thing of this run, by a name or tuple only this run uses.

export type JournalEntry =
  /** the flows of our attempts: one conntrack entry per source port (when one was made) */
  | {kind: 'conntrack'; protocol: string; src: string | null; dst: string; dport: number; sports: number[]}
  /** a table of our own (nodedoc-<id>); `flags owner` makes the kernel drop it when its nft process ends */
  | {kind: 'nft-table'; family: string; name: string}
  /** one rule in a built-in chain (the legacy raw table's TRACE rule), found again by its exact spec with our id in the comment */
  | {kind: 'iptables-rule'; program: string; table: string; chain: string; spec: string[]}
  /** a helper process (probe client, nft, a monitor); killed only while PID and start time still match */
  | {kind: 'process'; pid: number; startTime: number; what: string}

export interface Journal {
  /** a random id, unique to one run: names its table, its rule comment and this file */
  id: string
  pid: number
  /** start time of the owning process (clock ticks since boot, /proc/PID/stat field 22) */
  startTime: number
  command: string
  entries: JournalEntry[]
}

/** One line for an entry, for `cleanup` lists and messages. */
export function describeEntry(e: JournalEntry): string {
  switch (e.kind) {
    case 'conntrack':
      return `conntrack entries ${e.protocol} ${e.src ?? '*'} -> ${e.dst}:${e.dport} from source ports ${portRanges(e.sports)}`
    case 'nft-table':
      return `nft table ${e.family} ${e.name}`
    case 'iptables-rule':
      return `${e.program} -t ${e.table} ${e.chain} rule ${e.spec.join(' ')}`
    case 'process':
      return `process ${e.pid} (${e.what})`
  }
}

/** 20001,20002,20003,20010 -> "20001-20003,20010" */
export function portRanges(ports: number[]): string {
  const sorted = [...new Set(ports)].sort((a, b) => a - b)
  const out: string[] = []
  for (let i = 0; i < sorted.length; i++) {
    let j = i
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++
    out.push(j > i ? `${sorted[i]}-${sorted[j]}` : String(sorted[i]))
    i = j
  }
  return out.join(',')
}
