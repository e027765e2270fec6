// iptables-save output and iptables-restore input, parsed into tables -> chains -> rules.
//
// Both dialects are accepted: what `iptables-save` prints (matches reordered, /32 appended,
// --set-xmark, 11-digit probabilities, `-c` [pkts:bytes] prefixes, `# Warning:` lines) and what
// kube-proxy feeds to `iptables-restore` (partial tables, -X/-F lines, rules for chains the
// input never declares), and the `iptables -S` listing (-P/-N lines). Pasted captures parse too:
// excerpts with no `*table` header go to the table their chains and targets name (the guess is a
// note), and lines that are not rules (prompts, comments, cuts, prose, `// notes`) are skipped with
// one note per kind (src/parse/pasted-text.ts). No npm package parses iptables-save text, so this is ours.

import {type SkippedLines, SkipTally, skippedKind, skippedNote, trailingNoteAt} from './pasted-text.js'
import {tableOfRule} from './kube-chains.js'

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
  /** Lines of other text (prompts, cuts, notes) came between its header and COMMIT. */
  interrupted: boolean
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
  /** What callers worked out from the parsed rule (its port, its DNAT): forgotten with it. */
  private derivedValues: Record<string, unknown> | undefined
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

  /**
   * Forgets the parsed matches and what was derived from them; the next use parses the text again.
   * `svc -A` releases each service's own chains once it is traced: 10k services' parsed rules
   * held at once were most of its heap, and of its time (the collector walking them).
   */
  release(): void {
    this.parsed = undefined
    this.derivedValues = undefined
  }

  /** Whether the matches are parsed now (a caller that parsed a rule only to look at it may release it again). */
  get isParsed(): boolean {
    return this.parsed !== undefined
  }

  /** `compute(this)` remembered until the rule is released. */
  derived<T>(key: string, compute: (rule: IptablesRule) => T): T {
    const values = (this.derivedValues ??= {})
    if (key in values) return values[key] as T
    const value = compute(this)
    values[key] = value
    return value
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
  /** Lines that are not rules, one entry per kind (a pasted capture's prompts, comments, cuts...). */
  skipped: SkippedLines[]
  /** Why this is not a whole iptables-save: empty when it is one. */
  partial: string[]
  /** Lines iptables understood (headers, declarations, rules, chain commands). */
  iptablesLines: number
}

/** A table read whole: its header, every line up to its COMMIT, nothing else in between. */
export function isCompleteTable(table: IptablesTable | undefined): boolean {
  return !!table && !table.guessed && table.committed && !table.interrupted
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

// character codes the word splitter and option tests compare against
const SPACE = 32
const TAB = 9
const DOUBLE_QUOTE = 34
const DASH = 45
const DIGIT_0 = 48
const DIGIT_9 = 57
const LEFT_BRACKET = 91

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
    if (c === SPACE || c === TAB) {
      i++
      continue
    }
    const start = i
    // the common case: no quotes in the word, so a slice will do
    while (i < n && (c = line.charCodeAt(i)) !== SPACE && c !== TAB && c !== DOUBLE_QUOTE) i++
    if (i >= n || c !== DOUBLE_QUOTE) {
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
  return shared(word.charCodeAt(1) === DASH ? word.slice(2) : word.slice(1))
}

function isOptionWord(word: string): boolean {
  if (word.length < 2 || word.charCodeAt(0) !== DASH) return false
  const c = word.charCodeAt(1)
  return c < DIGIT_0 || c > DIGIT_9
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
        const name = optionName(opt)
        // a repeated option keeps every value (kube-proxy once wrote --to-destination three times)
        const earlier = target.options[name]
        target.options[name] = earlier ? [...earlier, ...(values.length ? values : [''])] : values
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
  return {name, chains: new Map(), deleted: [], flushed: [], guessed, committed: false, interrupted: false}
}

/** Which table a headerless excerpt mostly belongs to, from the chains and targets it mentions. */
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

/** Everything the line-by-line reading keeps between lines. */
interface ParseState {
  dump: IptablesDump
  lines: string[]
  /** The table a `*name` header opened, until its COMMIT. */
  table: IptablesTable | null
  /** For lines outside any header: the block's guessed table, and whether the guess was noted. */
  headerless: {name: string; noted: boolean} | null
  skipped: SkipTally
  /** Rules that had a trailing note cut off. */
  notes: SkipTally
}

/** The table a line outside any `*table` header goes to: its chain's and target's, else the block's guess. */
function headerlessTable(state: ParseState, index: number, chain: string, target: string | null): IptablesTable {
  if (!state.headerless) {
    state.headerless = {name: guessTable(state.lines, index), noted: false}
  }
  if (!state.headerless.noted) {
    state.headerless.noted = true
    state.dump.notes.push(`line ${index + 1}: no *table header (an excerpt?): each rule goes to the table its chain and target name, else ${state.headerless.name}`)
  }
  const name = tableOfRule(chain, target) ?? state.headerless.name
  let table = state.dump.tables.get(name)
  if (!table) {
    table = newTable(name, true)
    state.dump.tables.set(name, table)
  }
  table.guessed = true
  return table
}

function openTable(state: ParseState, trimmed: string, lineNo: number): void {
  const {dump} = state
  if (state.table && !state.table.committed) dump.notes.push(`line ${lineNo}: table ${state.table.name} has no COMMIT before ${trimmed}`)
  const name = trimmed.slice(1).trim()
  const table = dump.tables.get(name) ?? newTable(name, false)
  table.committed = false
  dump.tables.set(name, table)
  state.table = table
  state.headerless = null
}

function commitTable(state: ParseState, lineNo: number): void {
  if (state.table) state.table.committed = true
  else state.dump.notes.push(`line ${lineNo}: COMMIT outside any table`)
  state.table = null
  state.headerless = null
}

/** `:NAME POLICY [p:b]` */
function declareChain(state: ParseState, body: string, index: number): boolean {
  const m = /^:(\S+)\s+(\S+)(?:\s+\[(\d+):(\d+)\])?/.exec(body)
  if (!m) return false
  const table = state.table ?? headerlessTable(state, index, m[1], null)
  chainIn(table, m[1], true, m[2] === '-' ? null : m[2])
  return true
}

/** `-A CHAIN ...` / `-I CHAIN [N] ...`; the match words are split later, on first use. */
function appendRule(state: ParseState, body: string, head: RegExpExecArray, index: number, counters: {packets: number; bytes: number} | null): void {
  const chainName = head[2]
  const table = state.table ?? headerlessTable(state, index, chainName, /\s-[jg]\s+(\S+)/.exec(body)?.[1] ?? null)
  const chain = chainIn(table, chainName, false)
  // the chain's own name string: not one copy per rule of it
  const rule = new IptablesRule(table.name, chain.name, index + 1, body, head[0].length)
  if (counters) rule.counters = counters
  if (head[1] === '-I' || head[1] === '--insert') chain.rules.splice(Math.max(0, Number(head[3] ?? 1) - 1), 0, rule)
  else chain.rules.push(rule)
}

/** -N, -X, -F, -P, -D: what a restore input or `iptables -S` says about chains. False when the line is none of them. */
function chainCommand(state: ParseState, body: string, index: number): boolean {
  const lineNo = index + 1
  const words = splitRuleWords(body)
  const [command, chainName] = words
  if (!/^(-[NXFPD]|--(new-chain|delete-chain|flush|policy|delete))$/.test(command)) return false
  if (!chainName && command !== '-F' && command !== '-X') throw new IptablesParseError(`line ${lineNo}: ${command} without a chain name`)
  const table = state.table ?? headerlessTable(state, index, chainName ?? '', null)
  switch (command) {
    case '-N':
    case '--new-chain':
      chainIn(table, chainName, true)
      break
    case '-X':
    case '--delete-chain':
      if (!chainName) {
        state.dump.notes.push(`line ${lineNo}: -X of every user chain in ${table.name}`)
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
    default:
      state.dump.notes.push(`line ${lineNo}: -D (rule delete) ignored`)
  }
  return true
}

/** A line that is not iptables: counted by kind, and the table it fell in is no longer whole. */
function skip(state: ParseState, trimmed: string, lineNo: number): void {
  state.skipped.add(skippedKind(trimmed), lineNo, trimmed)
  if (state.table) state.table.interrupted = true
}

const RULE_HEAD = /^(-A|--append|-I|--insert)\s+(\S+)(?:\s+(\d+)(?=\s|$))?\s*/

/** Reads one line into the state. */
function readLine(state: ParseState, index: number): void {
  let line = state.lines[index]
  if (line.endsWith('\r')) line = line.slice(0, -1)
  const lineNo = index + 1
  const trimmed = line.trim()
  if (trimmed === '') return
  const {dump} = state
  if (trimmed.startsWith('#')) {
    const own = /^#\s*(Warning:\s*(.*)|Generated by ip6?tables(?:-legacy|-nft)?-save|Completed on )/.exec(trimmed)
    if (own?.[2] !== undefined) dump.warnings.push(own[2])
    if (!own) skip(state, trimmed, lineNo)
    return
  }
  if (/^\*[a-z]+$/.test(trimmed)) {
    openTable(state, trimmed, lineNo)
    dump.iptablesLines++
    return
  }
  if (trimmed === 'COMMIT') {
    commitTable(state, lineNo)
    dump.iptablesLines++
    return
  }
  let counters: {packets: number; bytes: number} | null = null
  let body = trimmed
  const prefix = body.charCodeAt(0) === LEFT_BRACKET ? /^\[(\d+):(\d+)\]\s+/.exec(body) : null
  if (prefix) {
    counters = {packets: Number(prefix[1]), bytes: Number(prefix[2])}
    body = body.slice(prefix[0].length)
  }
  if (body.startsWith(':') && declareChain(state, body, index)) {
    dump.iptablesLines++
    return
  }
  const head = body.startsWith('-') ? RULE_HEAD.exec(body) : null
  if (head) {
    const note = trailingNoteAt(body)
    if (note > 0) {
      state.notes.add('note', lineNo, body.slice(note))
      body = body.slice(0, note).trimEnd()
    }
    appendRule(state, body, head, index, counters)
    dump.iptablesLines++
    return
  }
  if (body.startsWith('-') && chainCommand(state, body, index)) {
    dump.iptablesLines++
    return
  }
  skip(state, trimmed, lineNo)
}

/** Why the dump is not one whole iptables-save: what was guessed, skipped or cut. */
function partialReasons(state: ParseState): string[] {
  const reasons: string[] = []
  const tables = [...state.dump.tables.values()]
  if (tables.some((t) => t.guessed)) reasons.push('no *table header')
  if (state.skipped.size) reasons.push('lines that are not rules')
  if (state.skipped.list().some((s) => s.kind === 'cut')) reasons.push("an author's cut")
  if (tables.some((t) => !t.guessed && !t.committed)) reasons.push('no COMMIT at the end')
  return reasons
}

/** Parses iptables-save output, iptables-restore input, `iptables -S`, or a pasted excerpt of any of them. */
export function parseIptablesSave(text: string): IptablesDump {
  const state: ParseState = {
    dump: {tables: new Map(), warnings: [], notes: [], skipped: [], partial: [], iptablesLines: 0},
    lines: text.split('\n'),
    table: null,
    headerless: null,
    skipped: new SkipTally(),
    notes: new SkipTally(),
  }
  for (let index = 0; index < state.lines.length; index++) readLine(state, index)
  const {dump} = state
  if (state.table && !state.table.committed) dump.notes.push(`table ${state.table.name} ends without COMMIT (truncated?)`)
  dump.skipped = [...state.skipped.list(), ...state.notes.list()]
  for (const s of dump.skipped) dump.notes.push(skippedNote(s))
  dump.partial = partialReasons(state)
  return dump
}

/** The first option named `name` (optionally within module `module`). */
export function findMatch(rule: IptablesRule, name: string, module?: string): MatchOption | undefined {
  return rule.matches.find((m) => m.name === name && (module === undefined || m.module === module))
}

/** Destination port of a rule (-m tcp --dport / --destination-port / multiport --dports). */
export function destinationPort(rule: IptablesRule): {ports: number[]; negated: boolean} | null {
  return rule.derived('destinationPort', portOfRule)
}

function portOfRule(rule: IptablesRule): {ports: number[]; negated: boolean} | null {
  return computeDestinationPort(rule.matches)
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
