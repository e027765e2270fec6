// What a live `svc NAME` starts before the CLI has loaded (bin/run.js calls startSvcEarly with
// the arguments after `svc`): the programs gatherKubeProxyRules and gatherNodeNetwork will run
// first, started while Node loads oclif and the command, and handed to them by the LiveHost
// (src/host/early.ts). Only for a live run reading the node's own rules: never with --from, a
// rules file, --host-root, -A, --ip or --probe, nor for an argument this does not know.

import {type EarlyPlan, startEarly} from '../host/early.js'
import {PATH_PREFETCH, PATH_START} from './iptables-path.js'
import {batchInput, listerArgv, restoreInput} from './listing-stream.js'
import {LEGACY_FAMILIES, natFirstWrites} from './legacy-restore.js'

/** A save of 256 MiB (~90k services) takes its program seconds: more than a listing's 10 s on a busy node. */
export const SAVE_TIMEOUT_MS = 60_000

/** The legacy tables the kernel holds in this netns (`/proc/net/ip*_tables_names`); none without the module. */
export const LEGACY_TABLE_NAMES = [['iptables-legacy-save', '/proc/net/ip_tables_names'], ['ip6tables-legacy-save', '/proc/net/ip6_tables_names']] as const

/** The chains that say kube-proxy uses iptables-nft: kubelet makes KUBE-IPTABLES-HINT (1.24+), older ones the canary. */
export const NFT_HINTS = ['KUBE-IPTABLES-HINT', 'KUBE-KUBELET-CANARY']

/** Listing streams for IPv4 (gather.ts's gatherPath): its path is three listings deep after KUBE-SERVICES. */
export const STREAMS_IPV4 = 2

/** The program every IPv4 listing stream runs, and IPv6's. */
export const STREAM_ARGV = listerArgv('iptables-nft')
export const STREAM6_ARGV = listerArgv('ip6tables-nft')

/** The other gatherers' programs on this path (src/pods/routes.ts, links.ts, gather.ts's nft and IPVS reads). */
const RUNS: NonNullable<EarlyPlan['runs']> = [
  {argv: ['nft', 'list', 'sets', 'table', 'ip', 'kube-proxy']},
  {argv: ['nft', 'list', 'sets', 'table', 'ip6', 'kube-proxy']},
  {argv: ['ip', '-j', '-4', 'route', 'show', 'table', 'all']},
  {argv: ['ip', '-j', '-6', 'route', 'show', 'table', 'all']},
  {argv: ['ip', '-j', '-d', 'link', 'show']},
  {argv: ['ip', '-j', 'netns', 'list-id']},
  {argv: ['ipvsadm', '-Ln'], whenExists: '/proc/net/ip_vs'},
]

/** svc's flags that take a value and leave the run live and read-only. */
const VALUE_FLAGS = new Set(['-n', '--namespace', '--port', '--protocol', '-o', '--output', '--sort-by', '--iptables-backend', '--graph'])
const BOOLEAN_FLAGS = new Set(['--no-headers', '--live-routes'])

/** The --iptables-backend of a live `svc NAME` (arguments after `svc`); undefined: not such a run. */
export function liveSvcName(args: string[], env: NodeJS.ProcessEnv = process.env): 'auto' | 'nft' | 'legacy' | undefined {
  if (env.NODEDOC_HOST_ROOT && env.NODEDOC_HOST_ROOT !== '/') return undefined
  let names = 0
  let backend = 'auto'
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]
    if (!arg.startsWith('-')) {
      names++
      continue
    }
    const long = /^(--[\w-]+)(=(.*))?$/.exec(arg)
    const short = /^(-\w)(=?(.+))?$/.exec(arg)
    const flag = long?.[1] ?? short?.[1]
    if (flag === undefined) return undefined
    if (BOOLEAN_FLAGS.has(flag) && !long?.[2]) continue
    if (!VALUE_FLAGS.has(flag)) return undefined
    const value = long?.[2] ? long[3] : short?.[2] ? short[3] : args[++i]
    if (value === undefined) return undefined
    if (flag === '--iptables-backend') backend = value
  }
  return names === 1 && (backend === 'auto' || backend === 'nft' || backend === 'legacy') ? backend : undefined
}

/**
 * What gatherPath writes to its two IPv4 listing streams in its first turn, stream by stream:
 * the hint probe (unless --iptables-backend nft), KUBE-SERVICES alone, then the filter chains and
 * the other nat start chains each by one restore, each batch on the stream ListingStreams chooses (the less loaded).
 * test/unit/svc/early.test.ts checks this against what gatherPath writes.
 */
export function pathStreamWrites(backend: 'auto' | 'nft'): string[][] {
  const nat = [...PATH_START, ...PATH_PREFETCH].filter(([table, chain]) => table === 'nat' && chain !== 'KUBE-SERVICES').map(([, chain]) => chain)
  const filter = PATH_START.filter(([table]) => table === 'filter').map(([, chain]) => chain)
  const hint = batchInput('mangle', [NFT_HINTS[0]])
  const services = batchInput('nat', ['KUBE-SERVICES'])
  const rest = [restoreInput('filter', filter), restoreInput('nat', nat)]
  return backend === 'auto' ? [[hint, ...rest], [services]] : [[services], rest]
}

/**
 * The hint probes gatherIptables runs one by one where the kernel holds legacy tables (IPv4's
 * names file lists one): there the nft path's streams start only if iptables-nft has the hint.
 */
export const HINT_PROBES = NFT_HINTS.map((chain) => ['iptables-nft', '-t', 'mangle', '-S', chain])

const SERVICES_BATCH = batchInput('nat', ['KUBE-SERVICES'])

/**
 * The legacy backend's nat restores (src/svc/legacy-restore.ts), IPv4's and IPv6's, each where the
 * kernel lists nat: their fetch of the whole table is the critical path, IPv4's started first.
 * mangle's and filter's (small) start from the command, once iptables-nft has shown no hint: where
 * kube-proxy uses nf_tables beside legacy tables they would go unused, and each start here holds
 * back the hint probes and listings after it.
 */
export function legacyRestoreFeeds(): NonNullable<EarlyPlan['feeds']> {
  return LEGACY_FAMILIES.map(({argv, names}, family) => ({argv: [...argv], whenListed: names, whenTable: 'nat', writes: natFirstWrites(), first: family === 0}))
}

/** The nft path's listers (unlessListed: only where the kernel lists no legacy table). */
function nftFeeds(backend: 'auto' | 'nft', unlessListed: string | undefined): NonNullable<EarlyPlan['feeds']> {
  return [
    ...pathStreamWrites(backend).map((writes) => ({argv: STREAM_ARGV, writes, first: writes.includes(SERVICES_BATCH), unlessListed})),
    {argv: STREAM6_ARGV, writes: [SERVICES_BATCH], unlessListed},
  ]
}

/** The plan for a live svc NAME with this --iptables-backend. */
export function svcEarlyPlan(backend: 'auto' | 'nft' | 'legacy'): EarlyPlan {
  const legacyNames = LEGACY_TABLE_NAMES[0][1]
  // with --iptables-backend nft the path is read whatever the legacy tables hold
  const unlessListed = backend === 'auto' ? legacyNames : undefined
  return {
    // with --iptables-backend nft the legacy saves run (the both-backends problem); else, where
    // the kernel lists legacy tables, the restores that read the legacy backend's path (the saves
    // run later where they are needed: an nft node with legacy tables, a restore that failed)
    streams: backend === 'nft' ? LEGACY_TABLE_NAMES.map(([program, names]) => ({argv: [program], whenListed: names, timeoutMs: SAVE_TIMEOUT_MS})) : [],
    // IPv6's path starts at its KUBE-SERVICES, asked for once the hint is known (gather.ts's ip6Path)
    // KUBE-SERVICES's stream started first: the walk waits for it, and each start holds the next
    feeds: backend === 'nft' ? nftFeeds(backend, unlessListed) : [...legacyRestoreFeeds(), ...(backend === 'auto' ? nftFeeds(backend, unlessListed) : [])],
    runs: [...(backend === 'auto' ? HINT_PROBES.map((argv) => ({argv, whenListed: legacyNames})) : []), ...RUNS],
  }
}

/** bin/run.js: starts the plan when the arguments after `svc` are a live svc NAME's. */
export function startSvcEarly(args: string[]): void {
  const backend = liveSvcName(args)
  if (backend) startEarly(svcEarlyPlan(backend))
}
