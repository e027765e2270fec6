// iptables-save output and iptables-restore input, parsed into tables -> chains -> rules.
//
// Both dialects are accepted: what `iptables-save` prints (matches reordered, /32 appended,
// --set-xmark, 11-digit probabilities, `-c` [pkts:bytes] prefixes, `# Warning:` lines) and what
// kube-proxy feeds to `iptables-restore` (partial tables, -X/-F lines, rules for chains the
// input never declares). Excerpts with no `*table` header parse too: the table is guessed and
// the guess is recorded as a note. No npm package parses iptables-save text, so this is ours.

import {asCidr} from './route.js'

/** A built-in chain has a policy; a user chain has "-". */
export interface IptablesChain {
  name: string
  policy: string | null
  /** Declared with `:NAME` or `-N`; false when only rules for it were seen (partial input). */
  declared: boolean
  rules: IptablesRule[]
}

export interface IptablesTable {
  name: string
  chains: Map<string, IptablesChain>
  /** Chains deleted by `-X` in a partial restore. */
  deleted: string[]
  /** Chains flushed by `-F`. */
  flushed: string[]
  /** The table had no `*name` header: its name is a guess. */
  guessed: boolean
  committed: boolean
}

/** One match option, e.g. {module: 'tcp', name: 'dport', values: ['80'], negated: false}. */
export interface MatchOption {
  /** The `-m` module it belongs to; null for the basic ones (-s -d -p -i -o -f). */
  module: string | null
  name: string
  values: string[]
  negated: boolean
}

export interface Address {
  /** CIDR as written, with a /32 or /128 added when absent. */
  cidr: string
  negated: boolean
}

export interface IptablesTarget {
  name: string
  /** -j jumps (returns here on fall-through), -g goes to (returns to the caller's caller). */
  via: 'jump' | 'goto'
  /** Target options: {'to-destination': ['10.0.0.1:80'], 'or-mark': ['0x4000']} */
  options: Record<string, string[]>
}

/** What a rule matches and where it sends the packet. */
export interface RuleSpec {
  counters: {packets: number; bytes: number} | null
  protocol: {name: string; negated: boolean} | null
  source: Address | null
  destination: Address | null
  inInterface: {name: string; negated: boolean} | null
  outInterface: {name: string; negated: boolean} | null
  /** Every -m module option, in order. */
  matches: MatchOption[]
  comment: string | null
  target: IptablesTarget | null
}

/**
 * One rule. Its matches are parsed on first use: a 30k-service dump holds half a million
 * rules, and `svc NAME` only ever looks at a few dozen of them.
 */
export class IptablesRule implements RuleSpec {
  private parsed: RuleSpec | undefined
  private prefixCounters: {packets: number; bytes: number} | null = null

  constructor(
    readonly table: string,
    readonly chain: string,
    /** 1-based line in the input */
    readonly line: number,
    /** The rule as written, without a counters prefix. */
    readonly text: string,
    /** Where the match/target words start in `text`. */
    private readonly specStart: number,
  ) {}

  private get spec(): RuleSpec {
    return (this.parsed ??= parseRuleSpec(splitRuleWords(this.text.slice(this.specStart))))
  }

  set counters(value: {packets: number; bytes: number} | null) {
    this.prefixCounters = value
  }
  get counters() {
    return this.prefixCounters ?? this.spec.counters
  }
  get protocol() {
    return this.spec.protocol
  }
  get source() {
    return this.spec.source
  }
  get destination() {
    return this.spec.destination
  }
  get inInterface() {
    return this.spec.inInterface
  }
  get outInterface() {
    return this.spec.outInterface
  }
  get matches() {
    return this.spec.matches
  }
  get comment() {
    return this.spec.comment
  }
  get target() {
    return this.spec.target
  }

  /** The -j/-g target name, read without parsing the rule when the text has no quotes. */
  get targetName(): string | null {
    if (this.parsed) return this.target?.name ?? null
    // the target comes after every match, so after the last quoted comment
    const quote = this.text.lastIndexOf('"')
    const m = /\s-(?:j|g|-jump|-goto)\s+([^\s"]+)/.exec(quote < 0 ? this.text : this.text.slice(quote + 1))
    if (m) return m[1]
    return quote < 0 ? null : this.target?.name ?? null
  }
}

export interface IptablesDump {
  tables: Map<string, IptablesTable>
  /** `# Warning:` lines (e.g. "iptables-legacy tables present"). */
  warnings: string[]
  /** What the parser had to guess or skip, one line each, naming the input line. */
  notes: string[]
}

export class IptablesParseError extends Error {}

const BASIC: Record<string, 'protocol' | 'source' | 'destination' | 'inInterface' | 'outInterface' | 'fragment'> = {
  '-p': 'protocol', '--protocol': 'protocol',
  '-s': 'source', '--source': 'source', '--src': 'source',
  '-d': 'destination', '--destination': 'destination', '--dst': 'destination',
  '-i': 'inInterface', '--in-interface': 'inInterface',
  '-o': 'outInterface', '--out-interface': 'outInterface',
  '-f': 'fragment', '--fragment': 'fragment',
}

/** Chains kube-proxy's nat table holds; an excerpt with no header made of these is nat. */
const NAT_HINT = /^(KUBE-(SVC|SVL|SEP|EXT|FW|XLB|MARK-MASQ|POSTROUTING|PORTALS|NODEPORT)|PREROUTING|POSTROUTING|DOCKER_OUTPUT|DOCKER_POSTROUTING|KIND-MASQ)/
const NAT_TARGETS = new Set(['DNAT', 'SNAT', 'MASQUERADE', 'REDIRECT', 'NETMAP'])

/**
 * Splits one line the way iptables-restore does: spaces separate, double quotes group,
 * a backslash escapes the next character inside quotes.
 */
export function splitRuleWords(line: string): string[] {
  const words: string[] = []
  const n = line.length
  let i = 0
  while (i < n) {
    let c = line.charCodeAt(i)
    if (c === 32 || c === 9) {
      i++
      continue
    }
    const start = i
    // the common case: no quotes in the word, so a slice will do
    while (i < n && (c = line.charCodeAt(i)) !== 32 && c !== 9 && c !== 34) i++
    if (i >= n || c !== 34) {
      words.push(line.slice(start, i))
      continue
    }
    let word = line.slice(start, i)
    let quoted = false
    while (i < n) {
      const ch = line[i]
      if (!quoted && ch === '"') {
        // a quoted run without escapes: one slice, not a character at a time
        const close = line.indexOf('"', i + 1)
        const escape = line.indexOf('\\', i + 1)
        if (close > 0 && (escape < 0 || escape > close)) {
          word += line.slice(i + 1, close)
          i = close + 1
          continue
        }
      }
      if (quoted) {
        if (ch === '\\' && i + 1 < n) {
          word += line[i + 1]
          i += 2
          continue
        }
        if (ch === '"') quoted = false
        else word += ch
        i++
        continue
      }
      if (ch === ' ' || ch === '\t') break
      if (ch === '"') quoted = true
      else word += ch
      i++
    }
    words.push(word)
  }
  return words
}

/**
 * Option and module names repeat on every rule: one shared string each keeps a
 * half-million-rule dump from holding millions of copies (and the collector from walking them).
 */
const names = new Map<string, string>()

function shared(word: string): string {
  const known = names.get(word)
  if (known !== undefined) return known
  if (names.size < 4096) names.set(word, word)
  return word
}

const NO_VALUES: string[] = Object.freeze([]) as unknown as string[]
const protocols = new Map<string, {name: string; negated: boolean}>()

function protocolOf(value: string, negated: boolean): {name: string; negated: boolean} {
  const key = negated ? `!${value}` : value
  let p = protocols.get(key)
  if (!p) {
    p = Object.freeze({name: value.toLowerCase(), negated})
    if (protocols.size < 256) protocols.set(key, p)
  }
  return p
}

function optionName(word: string): string {
  return shared(word.charCodeAt(1) === 45 ? word.slice(2) : word.slice(1))
}

function isOptionWord(word: string): boolean {
  if (word.length < 2 || word.charCodeAt(0) !== 45) return false
  const c = word.charCodeAt(1)
  return c < 48 || c > 57
}

/** Parses the words after `-A CHAIN` into matches and a target. */
export function parseRuleSpec(words: string[]): RuleSpec {
  const rule: RuleSpec = {
    counters: null,
    protocol: null, source: null, destination: null, inInterface: null, outInterface: null,
    matches: [], comment: null, target: null,
  }
  let module: string | null = null
  let negate = false
  let i = 0
  while (i < words.length) {
    const word = words[i]
    if (word === '!') {
      negate = true
      i++
      continue
    }
    if (word === '-c' || word === '--set-counters') {
      rule.counters = {packets: Number(words[i + 1]), bytes: Number(words[i + 2])}
      i += 3
      continue
    }
    if (word === '-m' || word === '--match') {
      module = words[i + 1] === undefined ? null : shared(words[i + 1])
      i += 2
      continue
    }
    if (word === '-j' || word === '--jump' || word === '-g' || word === '--goto') {
      const target: IptablesTarget = {name: words[i + 1] ?? '', via: word === '-g' || word === '--goto' ? 'goto' : 'jump', options: {}}
      i += 2
      // everything after the target belongs to it
      while (i < words.length) {
        const opt = words[i]
        if (!isOptionWord(opt)) {
          i++
          continue
        }
        const values: string[] = []
        i++
        while (i < words.length && !isOptionWord(words[i])) values.push(words[i++])
        target.options[optionName(opt)] = values
      }
      rule.target = target
      break
    }
    const basic = BASIC[word]
    if (basic) {
      const value = words[i + 1] ?? ''
      if (basic === 'protocol') rule.protocol = protocolOf(value, negate)
      else if (basic === 'source') rule.source = {cidr: asCidr(value), negated: negate}
      else if (basic === 'destination') rule.destination = {cidr: asCidr(value), negated: negate}
      else if (basic === 'inInterface') rule.inInterface = {name: value, negated: negate}
      else if (basic === 'outInterface') rule.outInterface = {name: value, negated: negate}
      negate = false
      i += basic === 'fragment' ? 1 : 2
      continue
    }
    if (isOptionWord(word)) {
      const values: string[] = []
      i++
      // old iptables wrote "--dport ! 80"; a later "!" negates the next option
      if (words[i] === '!' && i + 1 < words.length && !isOptionWord(words[i + 1])) {
        negate = true
        i++
      }
      while (i < words.length && !isOptionWord(words[i]) && words[i] !== '!') values.push(words[i++])
      const name = optionName(word)
      rule.matches.push({module, name, values: values.length ? values : NO_VALUES, negated: negate})
      if (module === 'comment' && name === 'comment') rule.comment = values.length === 1 ? values[0] : values.join(' ')
      negate = false
      continue
    }
    // a stray word: keep it visible rather than losing it
    rule.matches.push({module, name: word, values: [], negated: negate})
    negate = false
    i++
  }
  return rule
}

function chainIn(table: IptablesTable, name: string, declared: boolean, policy: string | null = null): IptablesChain {
  let chain = table.chains.get(name)
  if (!chain) {
    chain = {name, policy, declared, rules: []}
    table.chains.set(name, chain)
  } else if (declared) {
    chain.declared = true
    if (policy !== null) chain.policy = policy
  }
  return chain
}

function newTable(name: string, guessed: boolean): IptablesTable {
  return {name, chains: new Map(), deleted: [], flushed: [], guessed, committed: false}
}

/** Which table a headerless excerpt belongs to, from the chains and targets it mentions. */
function guessTable(lines: string[], from: number): string {
  for (let i = from; i < lines.length && i < from + 200; i++) {
    const line = lines[i]
    if (line.startsWith('*')) break
    const m = /^(?:\[\d+:\d+\]\s+)?(?::|-[AINX]\s+)(\S+)/.exec(line)
    if (m && NAT_HINT.test(m[1])) return 'nat'
    const j = /-j\s+(\S+)/.exec(line)
    if (j && NAT_TARGETS.has(j[1])) return 'nat'
  }
  return 'filter'
}

/** Parses iptables-save output or iptables-restore input. Throws IptablesParseError on lines it cannot read. */
export function parseIptablesSave(text: string): IptablesDump {
  const dump: IptablesDump = {tables: new Map(), warnings: [], notes: []}
  const lines = text.split('\n')
  let table: IptablesTable | null = null
  for (let index = 0; index < lines.length; index++) {
    let line = lines[index]
    if (line.endsWith('\r')) line = line.slice(0, -1)
    const lineNo = index + 1
    const trimmed = line.trim()
    if (trimmed === '') continue
    if (trimmed.startsWith('#')) {
      const warning = /^#\s*Warning:\s*(.*)$/.exec(trimmed)
      if (warning) dump.warnings.push(warning[1])
      continue
    }
    if (trimmed.startsWith('*')) {
      if (table && !table.committed) dump.notes.push(`line ${lineNo}: table ${table.name} has no COMMIT before *${trimmed.slice(1)}`)
      const name = trimmed.slice(1).trim()
      table = dump.tables.get(name) ?? newTable(name, false)
      table.committed = false
      dump.tables.set(name, table)
      continue
    }
    if (trimmed === 'COMMIT') {
      if (table) table.committed = true
      else dump.notes.push(`line ${lineNo}: COMMIT outside any table`)
      table = null
      continue
    }
    if (!table) {
      const name = guessTable(lines, index)
      table = dump.tables.get(name) ?? newTable(name, true)
      table.guessed = true
      dump.tables.set(name, table)
      dump.notes.push(`line ${lineNo}: no *table header (truncated excerpt?); assumed ${name}`)
    }
    let counters: {packets: number; bytes: number} | null = null
    let body = trimmed
    const prefix = body.charCodeAt(0) === 91 ? /^\[(\d+):(\d+)\]\s+/.exec(body) : null
    if (prefix) {
      counters = {packets: Number(prefix[1]), bytes: Number(prefix[2])}
      body = body.slice(prefix[0].length)
    }
    if (body.startsWith(':')) {
      const m = /^:(\S+)\s+(\S+)(?:\s+\[(\d+):(\d+)\])?/.exec(body)
      if (!m) throw new IptablesParseError(`line ${lineNo}: unreadable chain declaration: ${trimmed}`)
      chainIn(table, m[1], true, m[2] === '-' ? null : m[2])
      continue
    }
    if (!body.startsWith('-')) throw new IptablesParseError(`line ${lineNo}: not an iptables-save line: ${trimmed.slice(0, 80)}`)
    const head = /^(-A|--append|-I|--insert)\s+(\S+)(?:\s+(\d+)(?=\s|$))?\s*/.exec(body)
    if (head) {
      const insert = head[1] === '-I' || head[1] === '--insert'
      const chainName = head[2]
      const chain = chainIn(table, chainName, false)
      const rule = new IptablesRule(table.name, chainName, lineNo, body, head[0].length)
      if (counters) rule.counters = counters
      if (insert) chain.rules.splice(Math.max(0, Number(head[3] ?? 1) - 1), 0, rule)
      else chain.rules.push(rule)
      continue
    }
    const words = splitRuleWords(body)
    const command = words[0]
    const chainName = words[1]
    if (!chainName && command !== '-F' && command !== '-X') throw new IptablesParseError(`line ${lineNo}: ${command} without a chain name`)
    switch (command) {
      case '-N':
      case '--new-chain':
        chainIn(table, chainName, true)
        break
      case '-X':
      case '--delete-chain':
        if (!chainName) {
          dump.notes.push(`line ${lineNo}: -X of every user chain in ${table.name}`)
          for (const [name, chain] of table.chains) if (chain.policy === null) table.chains.delete(name)
          break
        }
        table.deleted.push(chainName)
        table.chains.delete(chainName)
        break
      case '-F':
      case '--flush':
        if (!chainName) {
          for (const chain of table.chains.values()) chain.rules = []
          table.flushed.push('*')
          break
        }
        table.flushed.push(chainName)
        chainIn(table, chainName, false).rules = []
        break
      case '-P':
      case '--policy':
        chainIn(table, chainName, true, words[2] ?? null)
        break
      case '-D':
      case '--delete':
        dump.notes.push(`line ${lineNo}: -D (rule delete) ignored`)
        break
      default:
        throw new IptablesParseError(`line ${lineNo}: not an iptables-save line: ${trimmed.slice(0, 80)}`)
    }
  }
  if (table && !table.committed && !table.guessed) dump.notes.push(`table ${table.name} ends without COMMIT (truncated?)`)
  if (table && table.guessed && !table.committed) dump.notes.push(`excerpt ends without COMMIT (truncated?)`)
  return dump
}

/** The first option named `name` (optionally within module `module`). */
export function findMatch(rule: IptablesRule, name: string, module?: string): MatchOption | undefined {
  return rule.matches.find((m) => m.name === name && (module === undefined || m.module === module))
}

/** Destination port of a rule (-m tcp --dport / --destination-port / multiport --dports). */
const portCache = new WeakMap<IptablesRule, {ports: number[]; negated: boolean} | null>()

export function destinationPort(rule: IptablesRule): {ports: number[]; negated: boolean} | null {
  let cached = portCache.get(rule)
  if (cached === undefined) {
    cached = computeDestinationPort(rule.matches)
    portCache.set(rule, cached)
  }
  return cached
}

/** Destination port of a list of match options. */
export function computeDestinationPort(matches: MatchOption[]): {ports: number[]; negated: boolean} | null {
  for (const m of matches) {
    if (m.name === 'dport' || m.name === 'destination-port' || m.name === 'dports' || m.name === 'destination-ports') {
      const ports: number[] = []
      if (m.values.length === 1 && /^\d+$/.test(m.values[0])) return {ports: [Number(m.values[0])], negated: m.negated}
      for (const part of m.values.join(',').split(',')) {
        const range = /^(\d+):(\d+)$/.exec(part)
        if (range) for (let p = Number(range[1]); p <= Number(range[2]) && ports.length < 65536; p++) ports.push(p)
        else if (/^\d+$/.test(part)) ports.push(Number(part))
      }
      return {ports, negated: m.negated}
    }
  }
  return null
}

/** "10.0.0.1:80", "[fd00::1]:80", "10.0.0.1" -> {ip, port}. */
export function parseHostPort(value: string): {ip: string; port: number | null} {
  const v6 = /^\[([^\]]+)\](?::(\d+))?/.exec(value)
  if (v6) return {ip: v6[1], port: v6[2] ? Number(v6[2]) : null}
  const colons = value.split(':').length - 1
  if (colons === 1) {
    const [ip, port] = value.split(':')
    return {ip, port: /^\d+/.test(port) ? Number.parseInt(port, 10) : null}
  }
  return {ip: value, port: null}
}

/** Built-in and extension targets: anything else after -j must be a chain. */
export const BUILTIN_TARGETS = new Set([
  'ACCEPT', 'DROP', 'REJECT', 'RETURN', 'QUEUE', 'DNAT', 'SNAT', 'MASQUERADE', 'REDIRECT', 'NETMAP', 'MARK',
  'CONNMARK', 'LOG', 'NFLOG', 'ULOG', 'NFQUEUE', 'NOTRACK', 'CT', 'TPROXY', 'TCPMSS', 'CHECKSUM', 'CLASSIFY',
  'SET', 'TTL', 'HL', 'TRACE', 'DSCP', 'TOS', 'SECMARK', 'CONNSECMARK', 'TEE', 'IDLETIMER', 'LED', 'RATEEST',
  'SYNPROXY', 'HMARK', 'AUDIT', 'CLUSTERIP', 'ECN', 'TCPOPTSTRIP', 'JOURNAL',
])
