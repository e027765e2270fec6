// Reads kube-proxy's rules through the Host: iptables (both backends), nftables and IPVS.
// Only reads: iptables-*-save, nft list and ipvsadm -Ln change nothing.

import {NodedocError} from '../errors.js'
import {type Host, type RunResult, runStream} from '../host/host.js'
import {readNamedFile} from '../host/named-file.js'
import {gatherPodAddresses} from '../pods/pods.js'
import {gatherHostRoutes} from '../pods/routes.js'
import {type ChainListing, PATH_PREFETCH, PATH_START, type PathTable, pathLines, readChainListing, saveText, tableChains, walkPath} from './iptables-path.js'
import {SaveBytes} from './iptables-save-bytes.js'
import {ListingStreams} from './listing-stream.js'
import {type LegacyPath, readLegacyPath, startLegacyReads} from './legacy-restore.js'
import {LEGACY_TABLE_NAMES, NFT_HINTS, SAVE_TIMEOUT_MS, STREAMS_IPV4} from './early.js'
import type {NodeNetwork} from './locate.js'

export type IptablesBackend = 'nft' | 'legacy'

export interface IptablesRead {
  /** nft / legacy: the backend read; plain: `iptables-save` on a host without the split tools */
  backend: IptablesBackend | 'plain' | 'file'
  /** Why this backend: the hint chain, rule counts, or the flag. */
  reason: string
  ipv4: string
  ipv6: string
  /** 'path': only the chains on one service's path were read (svc NAME on the nf_tables backend) */
  scope?: 'path'
}

export interface KubeProxyRules {
  iptables: IptablesRead | null
  /** `nft -j list table ip|ip6 kube-proxy` output (JSON), or `nft -f` text given by --nft (`file`: read from a file the user named) */
  nft: {text: string; source: string; file?: boolean} | null
  /** `ipvsadm -Ln` output, and the addresses on kube-ipvs0 (service IPs) when it exists */
  ipvs: {text: string; source: string; serviceIps?: string[]; file?: boolean} | null
  problems: string[]
}

export interface GatherOptions {
  backend?: 'auto' | IptablesBackend
  /**
   * Text every rule of the one service wanted carries (svc NAME, --ip): on a live node whose
   * kube-proxy uses the nf_tables backend, only the chains on that service's path are read.
   */
  hint?: string
}

const HINT = /^:(KUBE-IPTABLES-HINT|KUBE-KUBELET-CANARY)\b/m

function ruleCount(text: string): number {
  let n = 0
  for (const line of text.split('\n')) if (line.startsWith('-') || /^\[\d+:\d+\] -/.test(line)) n++
  return n
}

function kubeRuleCount(text: string): number {
  return (text.match(/^(\[\d+:\d+\] )?-A KUBE-/gm) ?? []).length
}

/**
 * A save's output as bytes, read while the program writes it (no 27 MB string on the way), up
 * to the cap on rules files: past it, one line naming the program. scan: index it for the cut
 * to one service's path (src/svc/iptables-save-bytes.ts) as it comes; hint: that service's,
 * whose nat KUBE-SERVICES rules are read as they come.
 */
async function readSave(host: Host, program: string, scan = true, hint?: string): Promise<SaveBytes | undefined> {
  const bytes = new SaveBytes(scan, hint)
  const result = await runStream(host, [program], (piece) => bytes.push(piece), {maxBytes: RULES_MAX_BYTES, timeoutMs: SAVE_TIMEOUT_MS})
  if (!result) return undefined
  if (result.exitCode !== 0 && result.stderr.trim()) host.warnings.add(`svc:${program}`, `${program} failed: ${result.stderr.trim().split('\n')[0]}`)
  return bytes.end()
}

/** A save's text, as run() would give it. */
async function save(host: Host, program: string): Promise<string | undefined> {
  return (await readSave(host, program, false))?.text()
}

/** What chooseBackend asks of one backend's saves, asked only when it gets there. */
interface RuleSet {
  hasHint(): boolean
  ruleCount(): number
}

/**
 * Picks the iptables backend the way kube-proxy's iptables wrapper does: a KUBE-IPTABLES-HINT or
 * KUBE-KUBELET-CANARY chain in iptables-nft's rules means nft, else in iptables-legacy's means
 * legacy, else the backend holding more rules wins (nft on a tie).
 */
export function chooseBackend(nftText: string, legacyText: string): {backend: IptablesBackend; reason: string} {
  const rules = (text: string): RuleSet => ({hasHint: () => HINT.test(text), ruleCount: () => ruleCount(text)})
  return chooseBetween(rules(nftText), rules(legacyText))
}

const LEGACY_HINTED: {backend: IptablesBackend; reason: string} = {backend: 'legacy', reason: 'KUBE-IPTABLES-HINT/KUBE-KUBELET-CANARY chain in iptables-legacy rules'}

function chooseBetween(nft: RuleSet, legacyRules: RuleSet): {backend: IptablesBackend; reason: string} {
  if (nft.hasHint()) return {backend: 'nft', reason: 'KUBE-IPTABLES-HINT/KUBE-KUBELET-CANARY chain in iptables-nft rules'}
  if (legacyRules.hasHint()) return LEGACY_HINTED
  const legacy = legacyRules.ruleCount()
  const nftCount = nft.ruleCount()
  if (legacy > nftCount) return {backend: 'legacy', reason: `no hint chain; iptables-legacy holds more rules (${legacy} > ${nftCount})`}
  return {backend: 'nft', reason: `no hint chain; iptables-nft holds at least as many rules (${nftCount} >= ${legacy})`}
}

/** The both-backends problem (nftKube undefined: only nft's path was listed, not counted). */
function bothBackends(nftKube: number | undefined, legacyKube: number): string {
  const nft = nftKube === undefined ? 'iptables-nft' : `iptables-nft (${nftKube})`
  return `both ${nft} and iptables-legacy (${legacyKube}) hold KUBE- rules: one set is stale, or two components disagree on the backend`
}

/** The backend --iptables-backend names, if it names one. */
function forcedBackend(options: GatherOptions): {backend: IptablesBackend; reason: string} | undefined {
  return options.backend && options.backend !== 'auto' ? {backend: options.backend, reason: '--iptables-backend'} : undefined
}

/** At most n at once: each listing is a process start, and a service may have hundreds of endpoints. */
function limiter(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0
  const waiting: Array<() => void> = []
  return async (task) => {
    if (active < n) active++
    else await new Promise<void>((resolve) => waiting.push(resolve))
    try {
      return await task()
    } finally {
      // the slot passes straight to the next in line
      const next = waiting.shift()
      if (next) next()
      else active--
    }
  }
}

export interface PathOptions {
  /** nat listings already asked for, by chain (undefined: not had, asked again) */
  given?: ReadonlyMap<string, Promise<RunResult | undefined> | RunResult>
  /** filter listings already asked for, by chain (undefined: not had, read from the whole table) */
  filterGiven?: ReadonlyMap<string, Promise<RunResult | undefined>>
  /** long-lived listing streams to ask through (src/svc/listing-stream.ts) */
  streams?: ListingStreams
}

/** Chains listed one after another by one xargs: more wait on each other, fewer share a process start. */
const BATCH = 8

/**
 * `PROGRAM -t TABLE -S CHAIN` for each chain, one after another, under one xargs: one process
 * start from nodedoc (a fork of a large process, 30-80 ms on a busy 2-core machine) instead of
 * one per chain. Each chain's listing is told apart by its lines (every one names its chain; a
 * chain that is there prints its -P or -N line), never interleaved (one at a time).
 * undefined: not every listing ran (no xargs, a listing killed or exiting 255): ask one by one.
 */
async function listEach(host: Host, program: string, table: PathTable, chains: string[]): Promise<Map<string, RunResult> | undefined> {
  const input = chains.map((chain) => `-t\0${table}\0-S\0${chain}\0`).join('')
  const result = await host.run(['xargs', '-r', '-0', '-n', '4', program], {input})
  // 123: some listing exited 1-125, as a chain that is not there does
  if (!result || (result.exitCode !== 0 && result.exitCode !== 123)) return undefined
  const listed = tableChains(result.stdout)
  const absent: RunResult = {stdout: '', stderr: '', exitCode: 1}
  return new Map(chains.map((chain) => [chain, listed.has(chain) ? {stdout: listed.get(chain)!, stderr: '', exitCode: 0} : absent]))
}

/** A chain's listing asked for, waiting for its answer. */
interface Waiter<T> {
  chain: string
  resolve(value: T): void
  reject(error: unknown): void
}

/** Chains asked for in one turn of the event loop, handed to `flush` together at its end. */
function together<T>(flush: (waiting: Array<Waiter<T>>) => void): (chain: string) => Promise<T> {
  let waiting: Array<Waiter<T>> = []
  return (chain) => new Promise<T>((resolve, reject) => {
    if (waiting.length === 0) {
      queueMicrotask(() => {
        const all = waiting
        waiting = []
        flush(all)
      })
    }
    waiting.push({chain, resolve, reject})
  })
}

/**
 * The chains on the path of the service `hint` names, as iptables-save text; undefined when the
 * program is not there. Each process start costs more than a small chain's listing, so: chain by
 * chain (`-S CHAIN`), KUBE-SERVICES (the slowest) first and alone, each chain asked for as soon
 * as the listing that jumps to it is in (not a whole round later), the chains of a table asked
 * for at one moment listed together: under `streams` (src/svc/listing-stream.ts), by one restore
 * (else by the streams one by one), and without streams by one xargs each (listEach); whatever
 * they cannot list, one by one. The filter table (small, no per-endpoint chains) without streams,
 * or where a restore could not list its chains, in one `PROGRAM -t filter -S` (which fetches
 * every chain of the family: 20k at 10k services). `given`, `filterGiven`: listings already
 * asked for.
 */
export async function readChainsOnPath(host: Host, program: string, hint: string, options: PathOptions = {}): Promise<string | undefined> {
  const {given = new Map(), streams, filterGiven = new Map()} = options
  const slot = limiter(8)
  const listings = new Map<string, Promise<ChainListing | null | undefined>>()
  const run = (table: PathTable, chain: string) => slot(() => host.run([program, '-t', table, '-S', chain]))
  const listWithoutStreams = (all: Array<Waiter<RunResult | undefined>>) => {
    const n = Math.ceil(all.length / BATCH)
    for (let i = 0; i < n; i++) {
      const batch = all.filter((_, j) => j % n === i)
      const one = (w: (typeof batch)[number]) => run('nat', w.chain).then(w.resolve, w.reject)
      if (batch.length === 1) {
        one(batch[0])
        continue
      }
      slot(() => listEach(host, program, 'nat', batch.map((w) => w.chain))).then((listed) => {
        if (!listed) return batch.forEach(one)
        for (const w of batch) w.resolve(listed.get(w.chain))
      }, (error) => batch.forEach((w) => w.reject(error)))
    }
  }
  // nat chains asked for in this turn of the event loop, listed together at its end
  const runSoon = together<RunResult | undefined>((all) => {
    if (!streams) return listWithoutStreams(all)
    const chains = all.map((w) => w.chain)
    streams.restore('nat', chains).then((listed) => listed ?? streams.list('nat', chains)).then((listed) => {
      if (!listed) return listWithoutStreams(all)
      for (const w of all) w.resolve(listed.get(w.chain))
    }, (error) => all.forEach((w) => w.reject(error)))
  })
  const list = (table: PathTable, chain: string, read: () => Promise<RunResult | undefined> | RunResult | undefined): Promise<ChainListing | null | undefined> => {
    const key = `${table} ${chain}`
    let listing = listings.get(key)
    if (listing) return listing
    listing = Promise.resolve(read()).then((result) => {
      if (!result) return undefined
      // a chain that is not there (exit 1) is left out, as a save would not hold it
      if (result.exitCode !== 0) return null
      const chainListing = readChainListing(chain, result.stdout, hint)
      if (table === 'nat') for (const next of chainListing.next) nat(next)
      return chainListing
    })
    // asked ahead of the walk: a failure reaches the walk when it gets there
    listing.catch(() => undefined)
    listings.set(key, listing)
    return listing
  }
  const first = (chain: string) => (streams ? streams.list('nat', [chain], pathLines(chain, hint)).then((l) => l?.get(chain) ?? run('nat', chain)) : run('nat', chain))
  const asked = (chain: string) => Promise.resolve(given.get(chain)).then((r) => r ?? run('nat', chain))
  const nat = (chain: string) => list('nat', chain, () => (given.has(chain) ? asked(chain) : chain === 'KUBE-SERVICES' ? first(chain) : runSoon(chain)))
  nat('KUBE-SERVICES')
  // the nat chains every path starts from, then the filter table: under streams, in that order
  for (const [table, chain] of [...PATH_START, ...PATH_PREFETCH]) if (table === 'nat') nat(chain)
  await Promise.resolve()
  // the whole filter table: without streams at once, else only for what a restore could not
  // list; run on its own, as a lister cannot tell a listing that failed (a chain it cannot show
  // fails the whole table) from an empty one
  let filterTable: Promise<RunResult | undefined> | undefined
  const wholeFilter = () => (filterTable ??= slot(() => host.run([program, '-t', 'filter', '-S'])))
  if (!streams) wholeFilter()
  let filterChains: Map<string, string> | undefined
  const fromWhole = async (chain: string): Promise<RunResult | undefined> => {
    const whole = await wholeFilter()
    // one chain the program cannot show fails the whole listing: then chain by chain
    if (!whole || whole.exitCode !== 0) return run('filter', chain)
    filterChains ??= tableChains(whole.stdout)
    const text = filterChains.get(chain)
    return text === undefined ? {stdout: '', stderr: '', exitCode: 1} : {stdout: text, stderr: '', exitCode: 0}
  }
  // filter chains asked for in this turn of the event loop (not given), by one restore at its end
  const filterSoon = together<RunResult | undefined>((all) => {
    streams!.restore('filter', all.map((w) => w.chain)).then((listed) => {
      for (const w of all) w.resolve(listed?.get(w.chain))
    }, () => all.forEach((w) => w.resolve(undefined)))
  })
  const filter = (chain: string) => list('filter', chain, async () => {
    if (!streams) return fromWhole(chain)
    const listed = await (filterGiven.get(chain) ?? filterSoon(chain))
    return listed ?? fromWhole(chain)
  })
  const tables = await walkPath((table, chain) => (table === 'nat' ? nat(chain) : filter(chain)))
  return tables && saveText(tables)
}

/** IPv6's chains on the path, walked only when kube-proxy has an IPv6 KUBE-SERVICES (each listing is a process start). */
async function ip6Path(host: Host, hint: string, streams?: ListingStreams): Promise<string | undefined> {
  const services = (await streams?.list('nat', ['KUBE-SERVICES'], pathLines('KUBE-SERVICES', hint)))?.get('KUBE-SERVICES') ?? (await host.run(['ip6tables-nft', '-t', 'nat', '-S', 'KUBE-SERVICES']))
  if (!services) return undefined
  return services.exitCode === 0 ? readChainsOnPath(host, 'ip6tables-nft', hint, {given: new Map([['KUBE-SERVICES', services]]), streams}) : ''
}

/**
 * The legacy saves, as bytes: for the both-backends problem, and on the legacy backend the rules
 * svc NAME cuts to its path. A family whose names file lists no table (or is absent beside
 * /proc/net/dev: ip_tables not loaded) holds no legacy rule, and its save would print nothing:
 * it is not run (null). Where the file cannot be read, the save is.
 */
type LegacySaves = Array<Promise<SaveBytes | null | undefined>>

function legacySaves(host: Host, hint: string, tableNames: Array<Promise<string | undefined>>): LegacySaves {
  const listed = legacyTablesListed(host, tableNames)
  return LEGACY_TABLE_NAMES.map(async ([program], i) => ((await listed[i])?.trim() === '' ? null : readSave(host, program, true, hint)))
}

/**
 * Each family's legacy tables as its names file lists them: '' where it lists none, or where the
 * file is absent beside /proc/net/dev (ip_tables not loaded); undefined where it cannot be read.
 */
function legacyTablesListed(host: Host, tableNames: Array<Promise<string | undefined>>): Array<Promise<string | undefined>> {
  const procNet = host.stat('/proc/net/dev')
  return tableNames.map(async (names) => {
    const text = await names
    return text !== undefined ? text : (await procNet) ? '' : undefined
  })
}

/** The text of the saves that ran, one after the other. */
function savesText(saves: Array<SaveBytes | null | undefined>): string {
  return saves.map((save) => save?.text() ?? '').join('')
}

/** Whether iptables-nft's mangle table holds a hint chain (the canary asked for only without the hint): through the streams, else one run each. */
async function nftHinted(host: Host, streams: ListingStreams | undefined): Promise<boolean> {
  for (const chain of NFT_HINTS) {
    const listed = (await streams?.list('mangle', [chain]))?.get(chain) ?? (await host.run(['iptables-nft', '-t', 'mangle', '-S', chain]))
    if (listed?.exitCode === 0) return true
  }
  return false
}

/**
 * The listings every service's path starts with, through the streams: KUBE-SERVICES alone on the
 * first (the long one; the walk goes on from it), then on whichever is less busy the filter
 * chains of PATH_START by one restore, and the other nat chains of PATH_START and PATH_PREFETCH
 * by another (one by one where it cannot).
 */
function earlyListings(streams: ListingStreams, hint: string): {given: Map<string, Promise<RunResult | undefined>>; filterGiven: Map<string, Promise<RunResult | undefined>>} {
  const given = new Map<string, Promise<RunResult | undefined>>()
  // KUBE-SERVICES' lines off the service's path are dropped as they come (pathLines)
  const services = streams.list('nat', ['KUBE-SERVICES'], pathLines('KUBE-SERVICES', hint))
  given.set('KUBE-SERVICES', services.then((l) => l?.get('KUBE-SERVICES')))
  const filterGiven = new Map<string, Promise<RunResult | undefined>>()
  const filter = PATH_START.filter(([table]) => table === 'filter').map(([, chain]) => chain)
  const filterListed = streams.restore('filter', filter)
  for (const chain of filter) filterGiven.set(chain, filterListed.then((l) => l?.get(chain)))
  const nat = [...PATH_START, ...PATH_PREFETCH].filter(([table, chain]) => table === 'nat' && chain !== 'KUBE-SERVICES').map(([, chain]) => chain)
  const listed = streams.restore('nat', nat).then((l) => l ?? streams.list('nat', nat))
  for (const chain of nat) given.set(chain, listed.then((l) => l?.get(chain)))
  return {given, filterGiven}
}

/**
 * svc NAME on a live node whose kube-proxy uses iptables-nft (its KUBE-IPTABLES-HINT chain is in
 * nft's mangle table, or --iptables-backend nft): the chains on the service's path, both
 * families; legacy's saves beside them for the both-backends problem (not run where the kernel
 * holds no legacy table). undefined: not that case, read everything. The listings go through
 * long-lived lister streams (src/svc/listing-stream.ts) where the host has them, KUBE-SERVICES asked for at once, beside the
 * hint probe rather than after it (on a legacy node it is a listing of an empty table).
 */
async function gatherPath(host: Host, options: GatherOptions, legacy: LegacySaves): Promise<{read: IptablesRead | null; problems: string[]} | undefined> {
  if (host.root === undefined || options.hint === undefined || options.backend === 'legacy') return undefined
  const streams = ListingStreams.open(host, 'iptables-nft', STREAMS_IPV4)
  // IPv6's too: the launcher started it with IPv4's, before the CLI loaded (src/svc/early.ts);
  // on a legacy node it is ended unused
  const streams6 = streams && ListingStreams.open(host, 'ip6tables-nft', 1)
  try {
    // everything the path needs before KUBE-SERVICES is in, asked for at once, beside the hint
    // probe rather than after it (on a legacy node, listings of empty tables), KUBE-SERVICES first
    const hinted = options.backend === 'nft' ? undefined : nftHinted(host, streams)
    const early = streams && earlyListings(streams, options.hint)
    let reason = '--iptables-backend'
    if (hinted) {
      if (!(await hinted)) return undefined
      reason = 'KUBE-IPTABLES-HINT/KUBE-KUBELET-CANARY chain in iptables-nft rules'
    }
    const [ipv4, ipv6, legacySaved] = await Promise.all([
      readChainsOnPath(host, 'iptables-nft', options.hint, {...early, streams}), ip6Path(host, options.hint, streams6), Promise.all(legacy),
    ])
    if (ipv4 === undefined) return undefined
    const problems: string[] = []
    const legacyKube = kubeRuleCount(savesText(legacySaved))
    if (legacyKube > 0) problems.push(bothBackends(undefined, legacyKube))
    return {read: {backend: 'nft', reason: `${reason}; only the chains on this service's path (iptables-nft -S)`, ipv4, ipv6: ipv6 ?? '', scope: 'path'}, problems}
  } finally {
    streams?.close()
    streams6?.close()
  }
}

export async function gatherIptables(host: Host, options: GatherOptions = {}): Promise<{read: IptablesRead | null; problems: string[]}> {
  if (host.root === undefined || options.hint === undefined) return gatherSaves(host, options)
  // svc NAME live: the legacy saves (where the kernel holds legacy tables) start at once, beside
  // the nft path's probes: on the legacy backend they are the critical path
  const tableNames = LEGACY_TABLE_NAMES.map(([, file]) => host.readFile(file))
  // where the kernel holds legacy tables (IPv4's names file lists one, as the launcher's early
  // plan asks), the nft path's streams (and their listings of empty tables on a legacy node)
  // start only if iptables-nft has the hint: the same answer, asked by one listing each, with the
  // save's pipe drained meanwhile
  const backend = options.backend ?? 'auto'
  if (backend === 'legacy' || (backend === 'auto' && (await tableNames[0])?.trim() && !(await nftHinted(host, undefined)))) {
    const nft = nftSaves(host, options.hint)
    return (await gatherLegacyPath(host, options, options.hint, tableNames, nft)) ?? gatherSavesOnPath(host, options, options.hint, legacySaves(host, options.hint, tableNames), nft)
  }
  const legacy = legacySaves(host, options.hint, tableNames)
  for (const saved of legacy) saved.catch(() => undefined)
  return (await gatherPath(host, options, legacy)) ?? gatherSavesOnPath(host, options, options.hint, legacy)
}

/** iptables-nft's saves, both families, read as they come. */
function nftSaves(host: Host, hint: string): Promise<Array<SaveBytes | undefined>> {
  return Promise.all([readSave(host, 'iptables-nft-save', true, hint), readSave(host, 'ip6tables-nft-save', true, hint)])
}

/**
 * svc NAME on the legacy backend, its chains listed by restores (src/svc/legacy-restore.ts)
 * rather than cut from the saves: the same answer where the saves would give it without their
 * rule counts, that is where iptables-nft holds no KUBE- rule (else the both-backends problem
 * counts legacy's) and, unless --iptables-backend legacy, no hint chain while iptables-legacy
 * declares one. A family whose restores fail is read by its save. undefined: not that case (the
 * saves are read, as before).
 */
async function gatherLegacyPath(host: Host, options: GatherOptions, hint: string, tableNames: Array<Promise<string | undefined>>, nft: Promise<Array<SaveBytes | undefined>>): Promise<{read: IptablesRead | null; problems: string[]} | undefined> {
  if (!host.feed) return undefined
  const fed = host as Host & {feed: NonNullable<Host['feed']>}
  const listed = await Promise.all(legacyTablesListed(host, tableNames))
  if (listed[0] === undefined || listed[1] === undefined || !listed[0].trim()) return undefined
  const family = async (i: 0 | 1): Promise<LegacyPath | undefined> => {
    if (!listed[i]!.trim()) return {text: '', hinted: false}
    const read = await readLegacyPath(startLegacyReads(fed, i, listed[i]!, hint), hint)
    if (read) return read
    const save = await readSave(host, LEGACY_TABLE_NAMES[i][0], true, hint)
    return save && {text: await save.onPath(hint), hinted: save.hasHint()}
  }
  const [saves, ipv4, ipv6] = await Promise.all([nft, family(0), family(1)])
  if (!ipv4 || !ipv6) return undefined
  if (kubeRuleCount(savesText(saves)) > 0) return undefined
  // unless forced, only where chooseBetween decides by legacy's hint alone: no rule is counted here
  const chosen = forcedBackend(options) ?? (!saves.some((save) => save?.hasHint()) && (ipv4.hinted || ipv6.hinted) ? LEGACY_HINTED : undefined)
  if (chosen?.backend !== 'legacy') return undefined
  return {read: {backend: 'legacy', reason: chosen.reason, ipv4: ipv4.text, ipv6: ipv6.text}, problems: []}
}

/** Every save read whole, as text: svc -A, a snapshot, and what asks for no one service. */
async function gatherSaves(host: Host, options: GatherOptions): Promise<{read: IptablesRead | null; problems: string[]}> {
  const problems: string[] = []
  const [nft4, nft6, legacy4, legacy6] = await Promise.all([
    save(host, 'iptables-nft-save'), save(host, 'ip6tables-nft-save'),
    save(host, 'iptables-legacy-save'), save(host, 'ip6tables-legacy-save'),
  ])
  if (nft4 === undefined && legacy4 === undefined) return savePlain(host, problems)
  const nftAll = (nft4 ?? '') + (nft6 ?? '')
  const legacyAll = (legacy4 ?? '') + (legacy6 ?? '')
  const nftKube = kubeRuleCount(nftAll)
  const legacyKube = kubeRuleCount(legacyAll)
  if (nftKube > 0 && legacyKube > 0) {
    problems.push(bothBackends(nftKube, legacyKube))
  }
  const chosen = forcedBackend(options) ?? chooseBackend(nftAll, legacyAll)
  const ipv4 = chosen.backend === 'nft' ? nft4 : legacy4
  const ipv6 = chosen.backend === 'nft' ? nft6 : legacy6
  if (ipv4 === undefined) {
    problems.push(`iptables-${chosen.backend}-save is not installed`)
    return {read: null, problems}
  }
  return {read: {backend: chosen.backend, reason: chosen.reason, ipv4, ipv6: ipv6 ?? ''}, problems}
}

async function savePlain(host: Host, problems: string[]): Promise<{read: IptablesRead | null; problems: string[]}> {
  const [plain4, plain6] = await Promise.all([save(host, 'iptables-save'), save(host, 'ip6tables-save')])
  if (plain4 === undefined) return {read: null, problems}
  return {read: {backend: 'plain', reason: 'only iptables-save is installed', ipv4: plain4, ipv6: plain6 ?? ''}, problems}
}

/**
 * svc NAME on a live node off the nft path (the legacy backend, or no hint chain): the saves read
 * as bytes while they are written, the chosen backend's cut to the service's path
 * (src/svc/iptables-save-bytes.ts): the same answer as gatherSaves' text traced whole, without
 * decoding 27 MB. What only the whole text can tell (rule counts) is read from it only when asked.
 */
async function gatherSavesOnPath(host: Host, options: GatherOptions, hint: string, legacy: LegacySaves, nftSaved = nftSaves(host, hint)): Promise<{read: IptablesRead | null; problems: string[]}> {
  const problems: string[] = []
  const [[nft4, nft6], [legacy4, legacy6]] = await Promise.all([
    nftSaved,
    // IPv4's save left out because the kernel holds no legacy table is run now, as gatherSaves
    // runs it: whether the program is there tells the answer (IPv6's empty save and none read alike)
    Promise.all(legacy.map((saved, i) => saved.then((bytes) => (bytes !== null ? bytes : i === 0 ? readSave(host, LEGACY_TABLE_NAMES[i][0], true, hint) : undefined)))),
  ])
  if (nft4 === undefined && legacy4 === undefined) return savePlain(host, problems)
  const nft = [nft4, nft6]
  const legacySaved = [legacy4, legacy6]
  // the smaller side's KUBE- rules first: where it holds none, the larger is never decoded
  const size = (saves: Array<SaveBytes | undefined>) => saves.reduce((n, save) => n + (save?.length ?? 0), 0)
  const [first, second] = size(nft) <= size(legacySaved) ? [nft, legacySaved] : [legacySaved, nft]
  const firstKube = kubeRuleCount(savesText(first))
  const secondKube = firstKube > 0 ? kubeRuleCount(savesText(second)) : 0
  if (firstKube > 0 && secondKube > 0) {
    const [nftKube, legacyKube] = first === nft ? [firstKube, secondKube] : [secondKube, firstKube]
    problems.push(bothBackends(nftKube, legacyKube))
  }
  // two saves one after the other, as gatherSaves joins their text (kubelet's chains are in the
  // first lines of a table, never at the very start of a save)
  const rules = (saves: Array<SaveBytes | undefined>): RuleSet => ({
    hasHint: () => saves.some((save) => save?.hasHint()),
    ruleCount: () => ruleCount(savesText(saves)),
  })
  const chosen = forcedBackend(options) ?? chooseBetween(rules(nft), rules(legacySaved))
  const [ipv4, ipv6] = chosen.backend === 'nft' ? nft : legacySaved
  if (ipv4 === undefined) {
    problems.push(`iptables-${chosen.backend}-save is not installed`)
    return {read: null, problems}
  }
  const [cut4, cut6] = await Promise.all([ipv4.onPath(hint), ipv6 ? ipv6.onPath(hint) : ''])
  return {read: {backend: chosen.backend, reason: chosen.reason, ipv4: cut4, ipv6: cut6}, problems}
}

/** kube-proxy's own nftables tables (its nftables mode writes these two and nothing else). */
export const KUBE_PROXY_NFT_TABLES = [['ip', 'kube-proxy'], ['ip6', 'kube-proxy']] as const

/**
 * Whether nft says the table is not there, asked cheaply: `nft list sets table F kube-proxy`
 * costs 0.03 s of CPU where `nft -j list table` costs 0.2 s even for a table that is not there
 * (nft 1.0.6 dumps every chain of every family first: 20k on a node with 10k services).
 * Anything else than "No such file or directory" (an older nft's syntax error, no nft, a
 * snapshot that did not ask) is not an answer: the table is listed as before.
 */
async function nftTableAbsent(host: Host, family: string, name: string): Promise<boolean> {
  const sets = await host.run(['nft', 'list', 'sets', 'table', family, name])
  return !!sets && sets.exitCode !== 0 && /^Error: No such file or directory/m.test(sets.stderr)
}

/**
 * kube-proxy's nftables tables, asked for by name: `nft list ruleset` (even `nft list tables`)
 * also lists every iptables-nft rule, 51 s and 1.6 GB on a node with 10k services, where
 * `nft -j list table ip kube-proxy` answers in 0.2 s. A table that is not there is not an error.
 * A snapshot taken before tables were asked for by name holds the whole ruleset: read that.
 */
export async function gatherKubeProxyNft(host: Host): Promise<KubeProxyRules['nft']> {
  const listings = await Promise.all(KUBE_PROXY_NFT_TABLES.map(async ([family, name]) => {
    const argv = ['nft', '-j', 'list', 'table', family, name]
    if (await nftTableAbsent(host, family, name)) return {argv, result: {stdout: '', stderr: '', exitCode: 1} as RunResult | undefined}
    return {argv, result: await host.run(argv)}
  }))
  const found = listings.filter((l) => l.result?.exitCode === 0 && l.result.stdout.trim())
  if (found.length === 0) {
    if (host.root !== undefined || listings.some((l) => l.result)) return null
    const all = await host.run(['nft', '-j', 'list', 'ruleset'])
    return all && all.exitCode === 0 && all.stdout.trim() ? {text: all.stdout, source: 'nft -j list ruleset'} : null
  }
  const source = 'nft -j list table'
  if (found.length === 1) return {text: found[0].result!.stdout, source}
  // one document for the parser: both tables' items in one nftables array
  try {
    const items = found.flatMap((l) => (JSON.parse(l.result!.stdout) as {nftables: unknown[]}).nftables)
    return {text: JSON.stringify({nftables: items}), source}
  } catch {
    // not JSON: the parser says so about the first one
    return {text: found[0].result!.stdout, source}
  }
}

/** Everything `nodedoc svc` reads from a live node (or a snapshot of one). */
export async function gatherKubeProxyRules(host: Host, options: GatherOptions = {}): Promise<KubeProxyRules> {
  const [iptables, nft, ipvs] = await Promise.all([
    gatherIptables(host, options),
    gatherKubeProxyNft(host),
    // ipvsadm loads ip_vs when it is not loaded, and an inspection tool loads no module:
    // ask only where the module is there (a snapshot replays what was captured)
    host.root === undefined || (await host.stat('/proc/net/ip_vs')) ? host.run(['ipvsadm', '-Ln']) : undefined,
  ])
  const hasIpvs = !!ipvs && ipvs.exitCode === 0 && /^(TCP|UDP|SCTP)\s/m.test(ipvs.stdout)
  // IPVS mode binds every service IP to the dummy kube-ipvs0; NodePorts live on node addresses
  const dummy = hasIpvs ? await host.run(['ip', '-j', 'addr', 'show', 'dev', 'kube-ipvs0']) : undefined
  return {
    iptables: iptables.read,
    nft,
    ipvs: hasIpvs ? {text: ipvs!.stdout, source: 'ipvsadm -Ln', ...(dummy?.exitCode === 0 ? {serviceIps: kubeIpvsAddresses(dummy.stdout)} : {})} : null,
    problems: iptables.problems,
  }
}

/** Addresses of `ip -j addr show dev kube-ipvs0`. */
export function kubeIpvsAddresses(json: string): string[] {
  try {
    const links = JSON.parse(json) as Array<{addr_info?: Array<{local?: string}>}>
    return links.flatMap((l) => (l.addr_info ?? []).map((a) => a.local).filter((a): a is string => !!a))
  } catch {
    return []
  }
}

/**
 * Cap on a rules file the user names: above the default 64 MiB because a 30k-service node's
 * iptables-save is ~78 MiB; below V8's ~512 MiB string limit, with room for the parse.
 */
export const RULES_MAX_BYTES = 256 * 1024 * 1024

/** Reads a rules file the user names (--iptables-save, --nft, --ipvsadm; "-" for stdin): a regular file, capped (src/host/named-file.ts). */
export async function readRulesFile(file: string, cwd: string): Promise<string> {
  return readNamedFile(file, cwd, RULES_MAX_BYTES)
}

/** Rules files the user names instead of the node's rules. */
export interface RulesFiles {
  iptablesSave?: string
  nft?: string
  ipvsadm?: string
}

export function hasRulesFiles(files: RulesFiles): boolean {
  return !!(files.iptablesSave || files.nft || files.ipvsadm)
}

/** The rules of --iptables-save / --nft / --ipvsadm files; one clear line when one cannot be read. */
export async function readRulesFiles(files: RulesFiles, cwd: string): Promise<KubeProxyRules> {
  const read = async (file: string) => {
    const text = await readRulesFile(file, cwd)
    if (text === undefined) throw new NodedocError(`${file}: cannot read`)
    return text
  }
  const rules: KubeProxyRules = {iptables: null, nft: null, ipvs: null, problems: []}
  if (files.iptablesSave) rules.iptables = {backend: 'file', reason: files.iptablesSave, ipv4: await read(files.iptablesSave), ipv6: ''}
  if (files.nft) rules.nft = {text: await read(files.nft), source: files.nft, file: true}
  if (files.ipvsadm) rules.ipvs = {text: await read(files.ipvsadm), source: files.ipvsadm, file: true}
  return rules
}

/**
 * The routes and pods endpoints are located against: the node's (or a snapshot's), through the
 * Host. Of the pods, only who each is, its addresses and its veth: not a full inspection of each.
 */
export async function gatherNodeNetwork(host: Host): Promise<NodeNetwork> {
  const [routes, pods] = await Promise.all([gatherHostRoutes(host), gatherPodAddresses(host)])
  return {routes, pods}
}
