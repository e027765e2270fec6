// nftables rules of one table, from `nft -j list ruleset` (JSON), from the `nft list` listing (also
// `nft -a`, with `# handle N`), or from the `nft -f` text kube-proxy's nftables mode writes. JSON rule
// expressions are turned back into nft's own statement words (for the vocabulary kube-proxy uses), so
// one tracer reads all three. Pasted captures parse too: prompts, comments and cuts around or inside
// the listing are skipped with one note per kind, and a table the paste never closes is partial.

import {type SkippedLines, SkipTally, skippedKind} from './pasted-text.js'

export interface NftRule {
  chain: string
  /** The statements, as nft writes them: "ip daddr 172.30.0.41 ip saddr != 10.0.0.0/8 jump mark-for-masquerade" */
  text: string
  comment: string | null
}

export interface NftElement {
  /** key parts: ["172.30.0.41", "tcp", "80"] */
  key: string[]
  /** verdict of a map element: "goto service-...", "drop"; null for a set element */
  verdict: string | null
  comment: string | null
}

export interface NftTable {
  family: string
  name: string
  chains: Map<string, NftRule[]>
  /** maps and sets by name */
  elements: Map<string, NftElement[]>
  /** set/map timeouts in seconds (affinity sets) */
  timeouts: Map<string, number>
}

export class NftParseError extends Error {
  name = 'NftParseError'
}

function tableOf(tables: Map<string, NftTable>, family: string, name: string): NftTable {
  const key = `${family} ${name}`
  let t = tables.get(key)
  if (!t) {
    t = {family, name, chains: new Map(), elements: new Map(), timeouts: new Map()}
    tables.set(key, t)
  }
  return t
}

function seconds(text: string): number | null {
  let total = 0
  let found = false
  for (const m of text.matchAll(/(\d+)(d|h|m|s|ms)/g)) {
    found = true
    const n = Number(m[1])
    total += m[2] === 'd' ? n * 86400 : m[2] === 'h' ? n * 3600 : m[2] === 'm' ? n * 60 : m[2] === 's' ? n : n / 1000
  }
  return found ? total : null
}

/** Splits "a . tcp . 80 comment \"x\" : goto y , b . udp . 53 : drop" into elements. */
function parseElements(body: string): NftElement[] {
  const out: NftElement[] = []
  for (const part of splitTopLevel(body, ',')) {
    const item = part.trim()
    if (!item) continue
    let comment: string | null = null
    let rest = item.replace(/\s+comment\s+"((?:[^"\\]|\\.)*)"/, (_, c: string) => {
      comment = c
      return ''
    })
    let verdict: string | null = null
    const colon = rest.indexOf(' : ')
    if (colon >= 0) {
      verdict = rest.slice(colon + 3).trim()
      rest = rest.slice(0, colon)
    }
    out.push({key: rest.split(' . ').map((k) => k.trim()), verdict, comment})
  }
  return out
}

function splitTopLevel(text: string, sep: string): string[] {
  const parts: string[] = []
  let depth = 0
  let quoted = false
  let current = ''
  for (const c of text) {
    if (c === '"') quoted = !quoted
    if (!quoted && c === '{') depth++
    if (!quoted && c === '}') depth--
    if (!quoted && depth === 0 && c === sep) {
      parts.push(current)
      current = ''
      continue
    }
    current += c
  }
  parts.push(current)
  return parts
}

/** A parse with what it skipped, and why it is not a whole rule set. */
export interface NftCapture {
  tables: Map<string, NftTable>
  skipped: SkippedLines[]
  partial: string[]
  /** Lines nft understood. */
  nftLines: number
}

/** The text kube-proxy feeds to `nft -f`: add/flush/delete lines. */
export function parseNftText(text: string): Map<string, NftTable> {
  return readNftText(text).tables
}

function readNftText(text: string): NftCapture {
  const tables = new Map<string, NftTable>()
  const skipped = new SkipTally()
  let nftLines = 0
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim()
    if (!line) continue
    const m = /^(add|create|insert|flush|delete|destroy)\s+(table|chain|rule|element|set|map)\s+(ip|ip6|inet|arp|bridge|netdev)\s+(\S+)\s*(.*)$/.exec(line)
    if (!m) {
      // kube-proxy's own text has "#" comments; anything else is what a paste brought along
      if (!line.startsWith('#') || skippedKind(line) === 'command') skipped.add(skippedKind(line), i + 1, line)
      continue
    }
    nftLines++
    const [, verb, kind, family, tableName, rest] = m
    const table = tableOf(tables, family, tableName)
    if (kind === 'table') continue
    const [name, ...tail] = rest.split(/\s+/)
    const body = tail.join(' ')
    if (kind === 'chain') {
      if (verb === 'delete' || verb === 'destroy') table.chains.delete(name)
      else if (verb === 'flush') table.chains.set(name, [])
      else if (!table.chains.has(name)) table.chains.set(name, [])
      continue
    }
    if (kind === 'rule') {
      if (verb === 'delete' || verb === 'destroy') continue
      const rules = table.chains.get(name) ?? []
      table.chains.set(name, rules)
      let comment: string | null = null
      const stmt = body.replace(/\s+comment\s+"((?:[^"\\]|\\.)*)"\s*$/, (_, c: string) => {
        comment = c
        return ''
      })
      const rule = {chain: name, text: stmt, comment}
      if (verb === 'insert') rules.unshift(rule)
      else rules.push(rule)
      continue
    }
    if (kind === 'set' || kind === 'map') {
      if (verb === 'delete' || verb === 'destroy') {
        table.elements.delete(name)
        continue
      }
      if (verb === 'flush') {
        table.elements.set(name, [])
        continue
      }
      if (!table.elements.has(name)) table.elements.set(name, [])
      const timeout = /timeout\s+([\dhdms]+)/.exec(body)
      if (timeout) table.timeouts.set(name, seconds(timeout[1]) ?? 0)
      continue
    }
    // element
    const inner = /\{(.*)\}\s*$/.exec(body)
    if (!inner) {
      skipped.add('text', i + 1, line)
      continue
    }
    const list = table.elements.get(name) ?? []
    table.elements.set(name, list)
    const elements = parseElements(inner[1])
    if (verb === 'delete' || verb === 'destroy') {
      const gone = new Set(elements.map((e) => e.key.join(' . ')))
      table.elements.set(name, list.filter((e) => !gone.has(e.key.join(' . '))))
    } else list.push(...elements)
  }
  return {tables, skipped: skipped.list(), partial: skipped.size ? ['lines that are not nft commands'] : [], nftLines}
}

// ---- JSON ----

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- nft -j output: its shape is what this parser checks
type Json = any

function value(v: Json): string {
  if (v === null || v === undefined) return ''
  if (typeof v === 'string' || typeof v === 'number') return String(v)
  if (Array.isArray(v)) return v.map(value).join(' . ')
  if (v.prefix) return `${v.prefix.addr}/${v.prefix.len}`
  if (v.range) return `${value(v.range[0])}-${value(v.range[1])}`
  if (v.set) return `{ ${(v.set as Json[]).map(value).join(', ')} }`
  if (v.concat) return (v.concat as Json[]).map(value).join(' . ')
  if (v.payload) return `${v.payload.protocol} ${v.payload.field}`
  if (v.meta) return `meta ${v.meta.key}`
  if (v.fib) return `fib ${(v.fib.flags ?? []).join(' . ')} ${v.fib.result}`
  if (v.ct) return `ct ${v.ct.key}`
  if (v.numgen) return `numgen ${v.numgen.mode} mod ${v.numgen.mod}`
  if (v.elem) return value(v.elem.val)
  // binary operations: {"|": [left, right]} -> "left or right" (marks as nft prints them, in hex)
  for (const [op, word] of [['|', 'or'], ['&', 'and'], ['^', 'xor']] as const) {
    if (Array.isArray(v[op])) return (v[op] as Json[]).map((x) => (typeof x === 'number' ? `0x${x.toString(16).padStart(8, '0')}` : value(x))).join(` ${word} `)
  }
  return JSON.stringify(v)
}

function verdictOf(v: Json): string | null {
  if (!v || typeof v !== 'object') return null
  for (const k of ['goto', 'jump']) if (v[k]) return `${k} ${v[k].target}`
  for (const k of ['drop', 'accept', 'return', 'continue']) if (k in v) return k
  if ('reject' in v) return 'reject'
  return null
}

function statement(e: Json): string {
  if (e.match) {
    const left = value(e.match.left)
    const op = e.match.op === '==' || e.match.op === 'in' ? '' : `${e.match.op} `
    const right = value(e.match.right)
    return `${left} ${op}${right}`
  }
  const v = verdictOf(e)
  if (v) return v
  if (e.vmap) {
    const data = (e.vmap.data?.set ?? []) as Json[]
    return `${value(e.vmap.key)} vmap { ${data.map((d) => `${value(d[0])} : ${verdictOf(d[1])}`).join(' , ')} }`
  }
  // an IPv6 address with a port is bracketed, as nft prints it (dnat to [fd00::7]:80)
  if (e.dnat) return `dnat to ${e.dnat.port !== undefined && String(e.dnat.addr).includes(':') ? `[${e.dnat.addr}]` : e.dnat.addr}${e.dnat.port !== undefined ? `:${e.dnat.port}` : ''}`
  if (e.snat) return `snat to ${e.snat.addr}`
  if (e.masquerade !== undefined) return 'masquerade'
  if (e.set) return `${e.set.op} ${e.set.set} { ${value(e.set.elem)} }`
  if (e.counter !== undefined) return ''
  if (e.mangle) return `${value(e.mangle.key)} set ${value(e.mangle.value)}`
  return JSON.stringify(e)
}

/** `nft -j list ruleset` (or `nft -j list table ...`). */
export function parseNftJson(text: string): Map<string, NftTable> {
  let doc: Json
  try {
    doc = JSON.parse(text)
  } catch (error) {
    throw new NftParseError(`not nft JSON: ${(error as Error).message}`)
  }
  if (!doc || !Array.isArray(doc.nftables)) throw new NftParseError('not nft JSON: no "nftables" array')
  const tables = new Map<string, NftTable>()
  for (const item of doc.nftables as Json[]) {
    if (item.table) tableOf(tables, item.table.family, item.table.name)
    else if (item.chain) {
      const t = tableOf(tables, item.chain.family, item.chain.table)
      if (!t.chains.has(item.chain.name)) t.chains.set(item.chain.name, [])
    } else if (item.rule) {
      const r = item.rule
      const t = tableOf(tables, r.family, r.table)
      const rules = t.chains.get(r.chain) ?? []
      t.chains.set(r.chain, rules)
      rules.push({chain: r.chain, text: (r.expr as Json[]).map(statement).filter(Boolean).join(' '), comment: r.comment ?? null})
    } else if (item.set || item.map) {
      const s = item.set ?? item.map
      const t = tableOf(tables, s.family, s.table)
      if (s.timeout !== undefined) t.timeouts.set(s.name, Number(s.timeout))
      const elements: NftElement[] = []
      for (const el of (s.elem ?? []) as Json[]) {
        if (item.map && Array.isArray(el)) {
          const key = el[0]?.elem ? el[0].elem.val : el[0]
          const comment = el[0]?.elem?.comment ?? null
          elements.push({key: value(key).split(' . '), verdict: verdictOf(el[1]), comment})
        } else {
          const key = el?.elem ? el.elem.val : el
          elements.push({key: value(key).split(' . '), verdict: null, comment: el?.elem?.comment ?? null})
        }
      }
      t.elements.set(s.name, elements)
    }
  }
  return tables
}

/** `nft list ruleset` (or `nft list table ...`, `nft -a list ...`): table { chain { rules } set { elements } } blocks. */
export function parseNftListing(text: string): Map<string, NftTable> {
  return readNftListing(text).tables
}

const BLOCK = /^(chain|set|map|flowtable|counter|quota|ct\s+\S+|limit|secmark|synproxy)\s+(\S+)\s*\{$/

function readNftListing(text: string): NftCapture {
  const tables = new Map<string, NftTable>()
  const skipped = new SkipTally()
  let nftLines = 0
  const lines = text.split('\n')
  let table: NftTable | null = null
  let chain: string | null = null
  let set: string | null = null
  const skip = (line: string, i: number) => skipped.add(skippedKind(line), i + 1, line)
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim().replace(/\s*# handle \d+$/, '')
    if (!line) continue
    const open = /^table\s+(\S+)\s+(\S+)\s*\{$/.exec(line)
    if (open) {
      table = tableOf(tables, open[1], open[2])
      chain = set = null
      nftLines++
      continue
    }
    if (!table || line.startsWith('#') || skippedKind(line) === 'cut') {
      skip(line, i)
      continue
    }
    nftLines++
    if (line === '}') {
      if (chain !== null) chain = null
      else if (set !== null) set = null
      else table = null
      continue
    }
    const block = BLOCK.exec(line)
    if (block) {
      const name = block[2].replace(/^"|"$/g, '')
      if (block[1] === 'chain') {
        chain = name
        if (!table.chains.has(name)) table.chains.set(name, [])
      } else {
        set = name
        if (!table.elements.has(name)) table.elements.set(name, [])
      }
      continue
    }
    if (set !== null) {
      const timeout = /^timeout\s+(\S+)$/.exec(line)
      if (timeout) table.timeouts.set(set, seconds(timeout[1]) ?? 0)
      if (line.startsWith('elements = {')) {
        let body = line.slice('elements = {'.length)
        while (!/\}\s*$/.test(body) && i + 1 < lines.length) body += ' ' + lines[++i].trim().replace(/\s*# handle \d+$/, '')
        table.elements.get(set)!.push(...parseElements(body.replace(/\}\s*$/, '')))
      }
      continue
    }
    if (chain !== null) {
      // base-chain header ("type nat hook prerouting priority dstnat; policy accept;") and chain comments
      if (/^type\s.*\bhook\b.*;/.test(line) || /^policy\s/.test(line) || /^comment\s+"/.test(line)) continue
      let comment: string | null = null
      const stmt = line.replace(/\s+comment\s+"((?:[^"\\]|\\.)*)"\s*$/, (_, c: string) => {
        comment = c
        return ''
      })
      table.chains.get(chain)!.push({chain, text: stmt, comment})
    }
  }
  const partial: string[] = []
  if (skipped.size) partial.push('lines that are not nft')
  if (skipped.list().some((s) => s.kind === 'cut')) partial.push("an author's cut")
  if (table) partial.push(`table ${table.family} ${table.name} is not closed`)
  return {tables, skipped: skipped.list(), partial, nftLines}
}

/** JSON from `nft -j`, a `nft list ruleset` listing, or `nft -f` text. */
export function parseNft(text: string): Map<string, NftTable> {
  return parseNftCapture(text).tables
}

/** Any of the three, pasted or whole: the tables, what was skipped, and why the capture is partial. */
export function parseNftCapture(text: string): NftCapture {
  if (text.trimStart().startsWith('{')) {
    const tables = parseNftJson(text)
    return {tables, skipped: [], partial: [], nftLines: tables.size}
  }
  // a listing may follow the prompt and command that printed it
  if (/^\s*table\s+\S+\s+\S+\s*\{/m.test(text)) return readNftListing(text)
  return readNftText(text)
}
