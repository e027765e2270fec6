// svc NAME on a live node whose kube-proxy uses iptables-legacy: only the chains on the service's
// path, listed by `iptables-legacy-restore --test --noflush`, never the whole save. Any legacy
// read costs the kernel's copy of the whole table and libiptc's cache of it (1.3 s of the save's
// 1.4 s at 10k services, whether one chain is listed or all 246k rules); restore makes that
// fetch once, at its `*TABLE` line, and lists each `-S CHAIN` line from that one copy (one
// consistent snapshot) as the line comes. So one restore per table is kept running, and the walk
// sends it, round by round, the chains the listings before jumped to.
//
// What it is asked and why it cannot write: its argv is a constant (RESTORE_ARGV) holding
// --test ("only parse and construct the ruleset, but do not commit it": it never calls
// setsockopt) and --noflush; its input is only `*TABLE`, `-S CHAIN` lines (restorableChain's
// names) and COMMIT. XTABLES_LOCKFILE=/proc/self/status: its lock is taken on its own procfs
// file, not on /run/xtables.lock (which it would create, and whose lock would hold kube-proxy
// back; iptables before 1.8.6 takes that one all the same: docs/security.md).
// stdbuf -oL: its stdout into a pipe would otherwise wait in a 4 KiB buffer, and each round's
// answer with it.
//
// Where one round's listings end: each round ends with `-S SENTINEL`, a built-in chain of the
// table (always there), and every listing starts with its own `-P CHAIN` or `-N CHAIN` line:
// once the sentinel's first line is in, every chain before it is. A `-S` of a chain that is not
// there ends the whole restore (exit 1), so only chains the kernel must hold are asked for: the
// built-in ones, and those a rule already listed jumps to (iptables-legacy refuses a jump to a
// chain that is not there, and the removal of a chain a rule jumps to). A line of any other kind,
// a chain out of order, an early end, a time-out: the whole read is given up (undefined), and the
// caller reads the save instead.

import type {FedProgram, Host} from '../host/host.js'
import {type LineFilter, type PathTable, pathLines, readChainListing, saveText, tableChains, walkPath, PATH_START} from './iptables-path.js'
import type {ChainListing} from './iptables-path.js'
import {restorableChain} from './listing-stream.js'

/** A family's restore, one per table: the lock on its own /proc/self/status, stdout by lines, nothing committed. */
function restoreArgv(program: 'iptables-legacy-restore' | 'ip6tables-legacy-restore') {
  return ['env', 'XTABLES_LOCKFILE=/proc/self/status', 'stdbuf', '-oL', program, '--test', '--noflush'] as const
}
export const RESTORE_ARGV = restoreArgv('iptables-legacy-restore')
export const RESTORE6_ARGV = restoreArgv('ip6tables-legacy-restore')

/** Each family's restore, and the file where the kernel names its legacy tables. */
export const LEGACY_FAMILIES = [
  {argv: [...RESTORE_ARGV], names: '/proc/net/ip_tables_names'},
  {argv: [...RESTORE6_ARGV], names: '/proc/net/ip6_tables_names'},
] as const

/** nat's built-in chains: always there while the table is. */
export const NAT_BUILTINS = ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING']

/** The chain that ends each round: nat's INPUT, built in, and holding no kube-proxy rule. */
export const SENTINEL = 'INPUT'

/** The nat chains the walk asks for first (PATH_START's built-in ones), in its order. */
export const NAT_FIRST = PATH_START.filter(([table, chain]) => table === 'nat' && NAT_BUILTINS.includes(chain)).map(([, chain]) => chain)

/** One round's input: each chain's `-S` line, then the sentinel's. */
export function roundInput(chains: string[]): string {
  return [...chains, SENTINEL].map((chain) => `-S ${chain}\n`).join('')
}

/** What the nat restore is written first (by the launcher, src/svc/early.ts, and again by the walk). */
export function natFirstWrites(): string[] {
  return ['*nat\n', roundInput(NAT_FIRST)]
}

/** More than this in one line, or one round, is not a listing (30k services' KUBE-SERVICES is ~4 MiB). */
const MAX_CHARS = 64 << 20

/** One round asked of a restore: its chains, in order, each listing's text as it comes. */
interface Round {
  chains: string[]
  texts: string[][]
}

/**
 * Cuts a restore's stdout into its rounds' listings, whatever the pieces it arrives in. Every
 * line is a listing's first (`-P CHAIN POLICY`, `-N CHAIN`: the next chain asked, or the
 * sentinel) or one of its rules (`-A CHAIN`); anything else, garbled. filter: the lines of a
 * shared chain's listing kept (pathLines), applied to its text piece by piece as it comes.
 */
export class RestoreReader {
  private partial = ''
  private readonly rounds: Round[] = []
  /** the round and the place in it of the listing whose rules come now (chains.length: the sentinel's); -1 before the first line */
  private at = -1
  private current: string | undefined
  private chars = 0
  garbled = false

  constructor(private readonly filter: (chain: string) => LineFilter | undefined = () => undefined) {}

  ask(chains: string[]): void {
    this.rounds.push({chains, texts: chains.map(() => [])})
  }

  /** The rounds this piece completes, in order, each chain's listing by name; [] once garbled. */
  push(chunk: string): Array<Map<string, string>> {
    if (this.garbled) return []
    const text = this.partial + chunk
    const whole = text.lastIndexOf('\n') + 1
    this.partial = text.slice(whole)
    if (this.partial.length > MAX_CHARS) return this.garble()
    const done: Array<Map<string, string>> = []
    const header = /^-[PN] ([^ \n]+)(?: [^\n]*)?\n/gm
    let start = 0
    for (let m = header.exec(text); m && m.index < whole; m = header.exec(text)) {
      if (!this.rules(text.slice(start, m.index))) return this.garble()
      const round = this.rounds[0]
      if (!round) return this.garble()
      const next = this.at + 1
      const expected = next < round.chains.length ? round.chains[next] : SENTINEL
      if (m[1] !== expected) return this.garble()
      if (next === round.chains.length) {
        // the sentinel: every chain of the round is in
        done.push(new Map(round.chains.map((chain, i) => [chain, round.texts[i].join('')])))
        this.rounds.shift()
        this.at = -1
        this.current = SENTINEL
        this.chars = 0
      } else {
        this.at = next
        this.current = m[1]
        round.texts[next].push(m[0])
      }
      start = m.index + m[0].length
    }
    if (!this.rules(text.slice(start, whole))) return this.garble()
    return done
  }

  /** Whole lines of the current listing's rules: kept (the sentinel's dropped), or false when one is not its rule. */
  private rules(lines: string): boolean {
    if (!lines) return true
    const chain = this.current
    if (chain === undefined) return false
    const round = this.rounds[0]
    const keeping = round && this.at >= 0 && this.at < round.chains.length
    const filter = keeping ? this.filter(chain) : undefined
    const kept = filter ? filter(lines) : lines
    const rule = `-A ${chain}`
    for (let s = 0; s < kept.length;) {
      const e = kept.indexOf('\n', s)
      if (e < 0) return false
      if (!kept.startsWith(rule, s) || (kept[s + rule.length] !== ' ' && s + rule.length !== e)) return false
      s = e + 1
    }
    if (keeping) {
      this.chars += kept.length
      if (this.chars > MAX_CHARS) return false
      round.texts[this.at].push(kept)
    }
    return true
  }

  private garble(): [] {
    this.garbled = true
    this.rounds.length = 0
    this.partial = ''
    return []
  }
}

/** How long a restore session may take in all (a save's bound: 256 MiB of rules take their program seconds). */
export const SESSION_TIMEOUT_MS = 60_000

/**
 * One table's restore, kept running: rounds of chains in, each chain's listing out. Failed at the
 * first thing it does not expect; then every round asked gets undefined.
 */
export class RestoreSession {
  private readonly reader: RestoreReader
  private readonly waiting: Array<(listed: Map<string, string> | undefined) => void> = []
  // undefined until feed() returns: its listeners may be called before (a program that could not start)
  private program: FedProgram | undefined
  private failed = false
  private closed = false
  private readonly timer: ReturnType<typeof setTimeout>

  constructor(host: Host & {feed: NonNullable<Host['feed']>}, argv: string[], table: string, filter: (chain: string) => LineFilter | undefined, timeoutMs = SESSION_TIMEOUT_MS) {
    this.reader = new RestoreReader(filter)
    this.program = host.feed(argv, {
      stdout: (chunk) => {
        for (const listed of this.reader.push(chunk)) this.waiting.shift()?.(listed)
        if (this.reader.garbled) this.fail()
      },
      // its end before the last round's answer: a chain it could not list, or no program
      exit: () => this.fail(),
    })
    this.timer = setTimeout(() => {
      if (this.failed || this.closed) return
      host.warnings.add(`svc:restore:${argv[4]}`, `${argv[4]} --test gave no answer within ${timeoutMs / 1000} s: the save read instead`)
      this.fail()
    }, timeoutMs)
    this.timer.unref?.()
    this.program.write(`*${table}\n`)
  }

  /** Each chain's `-S` listing (the kept lines of a shared chain's); undefined: the session failed. */
  list(chains: string[]): Promise<Map<string, string> | undefined> {
    if (this.failed || this.closed || chains.length === 0 || !chains.every(restorableChain)) {
      this.fail()
      return Promise.resolve(undefined)
    }
    return new Promise((resolve) => {
      this.waiting.push(resolve)
      this.reader.ask(chains)
      this.program?.write(roundInput(chains))
    })
  }

  /** Ends the restore: COMMIT (of nothing: --test) and the end of its input, or at once when it failed. */
  close(): void {
    clearTimeout(this.timer)
    if (this.closed || this.failed) return
    this.closed = true
    for (const resolve of this.waiting.splice(0)) resolve(undefined)
    this.program?.write('COMMIT\n')
    this.program?.close()
  }

  private fail(): void {
    clearTimeout(this.timer)
    if (!this.failed) {
      this.failed = true
      this.program?.kill()
    }
    for (const resolve of this.waiting.splice(0)) resolve(undefined)
  }
}

/**
 * A whole table's `-S` listing by one restore (mangle and filter: small next to nat), each chain's
 * own listing by name; undefined: it did not end well (an early end, a line no listing prints).
 * Its end: the sentinel's `-P INPUT` line (mangle and filter both have INPUT), the second one (a
 * whole listing holds each built-in chain's policy once, before any other line).
 */
export function wholeTable(host: Host & {feed: NonNullable<Host['feed']>}, argv: string[], table: string, timeoutMs = SESSION_TIMEOUT_MS): Promise<Map<string, string> | undefined> {
  return new Promise((resolve) => {
    let text = ''
    // its listeners may be called before feed() returns (a program that could not start)
    const started: {program?: FedProgram} = {}
    let finished = false
    const finish = (listed: Map<string, string> | undefined) => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      if (listed) {
        started.program?.write('COMMIT\n')
        started.program?.close()
      } else started.program?.kill()
      resolve(listed)
    }
    const timer = setTimeout(() => finish(undefined), timeoutMs)
    timer.unref?.()
    const program = (started.program = host.feed(argv, {
      stdout: (chunk) => {
        if (finished) return
        text += chunk
        const end = wholeEnd(text)
        if (end !== undefined) finish(end >= 0 ? tableChains(text.slice(0, end)) : undefined)
        else if (text.length > MAX_CHARS) finish(undefined)
      },
      // before the sentinel: it could not list the table
      exit: () => finish(undefined),
    }))
    for (const write of wholeWrites(table)) program.write(write)
  })
}

/** What a whole table's restore is written (by the launcher too). */
export function wholeWrites(table: string): string[] {
  return [`*${table}\n`, `-S\n-S ${SENTINEL}\n`]
}

/**
 * Where a whole listing ends in text: at the sentinel's first line (the second `-P INPUT` line);
 * -1: a line no listing prints before it; undefined: not there yet.
 */
export function wholeEnd(text: string): number | undefined {
  const policy = /^-P INPUT [^\n]*\n/gm
  if (!policy.exec(text)) return undefined
  const second = policy.exec(text)
  if (!second) return undefined
  return /^(?:-[PNA] [^\n]*\n)*$/.test(text.slice(0, second.index)) ? second.index : -1
}

/** kubelet's chains that say which backend kube-proxy uses, as a listing declares them. */
const HINTED = /^-N (?:KUBE-IPTABLES-HINT|KUBE-KUBELET-CANARY)$/m

/** One family's legacy rules on the service's path. */
export interface LegacyPath {
  /** iptables-save text of the chains on the path, as SaveBytes.onPath cuts the save */
  text: string
  /** whether a table listed declares kubelet's hint chain or canary */
  hinted: boolean
}

/** The tables a names file lists. */
export function listedTables(names: string): Set<string> {
  return new Set(names.split('\n').map((line) => line.trim()).filter(Boolean))
}

/**
 * The restores of one family: nat (the launcher started it, src/svc/early.ts), then mangle (IPv4
 * only: the hint) and filter, each where the kernel lists that table (a table not loaded is never
 * named to the kernel: that would load its module).
 */
export interface LegacyReads {
  mangle?: Promise<Map<string, string> | undefined>
  filter?: Promise<Map<string, string> | undefined>
  nat?: RestoreSession
}

export function startLegacyReads(host: Host & {feed: NonNullable<Host['feed']>}, family: 0 | 1, names: string, hint: string): LegacyReads {
  const tables = listedTables(names)
  const {argv} = LEGACY_FAMILIES[family]
  const reads: LegacyReads = {}
  // nat first: the one the launcher started (feeds of one argv are taken in plan order)
  if (tables.has('nat')) reads.nat = new RestoreSession(host, [...argv], 'nat', (chain) => pathLines(chain, hint))
  if (family === 0 && tables.has('mangle')) reads.mangle = wholeTable(host, [...argv], 'mangle')
  if (tables.has('filter')) reads.filter = wholeTable(host, [...argv], 'filter')
  return reads
}

/**
 * The chains on the path, walked as SaveBytes.onPath walks the save (walkPath: the same order),
 * each nat chain asked for as soon as a listing jumps to it; undefined: a read failed, or a start
 * chain that is not built in (KUBE-SERVICES, KUBE-NODEPORTS) is reached by no rule listed, so
 * whether it is there cannot be asked without the risk of ending the restore.
 */
export async function readLegacyPath(reads: LegacyReads, hint: string): Promise<LegacyPath | undefined> {
  try {
    const nat = reads.nat ? natLister(reads.nat, hint) : undefined
    const filter = reads.filter
    const walked = await walkPath(async (table: PathTable, chain) => {
      if (table === 'nat') return nat ? nat(chain) : null
      if (!filter) return null
      const chains = await filter
      if (!chains) return undefined
      const text = chains.get(chain)
      return text === undefined ? null : readChainListing(chain, text, hint)
    })
    if (!walked) return undefined
    const [mangle, filterChains] = await Promise.all([reads.mangle, filter])
    if ((reads.mangle && !mangle) || (filter && !filterChains)) return undefined
    const hinted = [mangle, filterChains].some((chains) => chains && [...chains.values()].some((text) => HINTED.test(text)))
    return {text: saveText(walked), hinted}
  } finally {
    reads.nat?.close()
  }
}

/**
 * nat chains through the session: the built-in ones at once, any other once a rule listed jumps
 * to it; the chains asked for in one turn of the event loop go as one round.
 */
function natLister(session: RestoreSession, hint: string): (chain: string) => Promise<ChainListing | undefined> {
  const known = new Set(NAT_BUILTINS)
  const asked = new Map<string, Promise<ChainListing | undefined>>()
  const resolvers = new Map<string, (listing: ChainListing | undefined) => void>()
  const deferred = new Set<string>()
  let queued: string[] = []
  let inFlight = 0
  let failed = false
  const fail = () => {
    failed = true
    for (const [chain, resolve] of resolvers) {
      resolvers.delete(chain)
      resolve(undefined)
    }
    deferred.clear()
  }
  const flush = () => {
    const round = queued
    queued = []
    if (round.length === 0 || failed) return
    inFlight++
    session.list(round).then((listed) => {
      inFlight--
      if (!listed) return fail()
      for (const chain of round) {
        const listing = readChainListing(chain, listed.get(chain) ?? '', hint)
        for (const target of listing.next) {
          known.add(target)
          ask(target)
        }
        resolvers.get(chain)?.(listing)
        resolvers.delete(chain)
      }
      settle()
    })
  }
  // the chains waiting that a listing showed are there are asked; when nothing more is on the
  // way that could show it, whether those left are there cannot be asked: given up
  const settle = () => {
    for (const chain of [...deferred]) {
      if (!known.has(chain)) continue
      deferred.delete(chain)
      queue(chain)
    }
    if (inFlight === 0 && queued.length === 0 && deferred.size > 0) fail()
  }
  const queue = (chain: string) => {
    if (queued.length === 0) queueMicrotask(flush)
    queued.push(chain)
  }
  const ask = (chain: string): Promise<ChainListing | undefined> => {
    let listing = asked.get(chain)
    if (listing) return listing
    if (failed) return Promise.resolve(undefined)
    listing = new Promise<ChainListing | undefined>((resolve) => resolvers.set(chain, resolve))
    asked.set(chain, listing)
    if (known.has(chain)) queue(chain)
    else {
      deferred.add(chain)
      queueMicrotask(settle)
    }
    return listing
  }
  return ask
}
