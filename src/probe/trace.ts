// traceFlow(): one real packet from a pod (or the node) to a Service frontend, traced through
// the kernel's rules. nf_tables modes mark it with a `meta nftrace set 1` rule in a table of our
// own and listen with a trace monitor; legacy iptables marks it with a raw-table TRACE rule and
// reads the kernel log. What it adds is journaled first and removed on success, failure and
// abort; kube-proxy's own tables and chains are never written.

import type {Host} from '../host/host.js'
import {parseIptablesSave} from '../parse/iptables.js'
import {type TraceEvent, kernelLogTime, parseKernelTrace, parseNftTrace, parseXtablesTrace, ruleHandles} from '../parse/packet-trace.js'
import {ProbeClientError, ProbeJournal, clientCommand, listFlows, runProbeClient, sweepStaleJournals} from '../write/probe-ops.js'
import {type Helper, addLegacyTraceRule, settle, startNftTraceTable, startTraceMonitor} from '../write/trace-ops.js'
import {pickSourcePorts, udpPayload} from './plan.js'
import {ProbeAborted, ProbeError, expectedNetns} from './probe.js'
import type {TraceHop, TraceMode} from './trace-types.js'
import type {ProbeSource, ProbeTarget} from './types.js'

export interface TraceFlowOptions {
  mode: TraceMode
  from: ProbeSource
  to: ProbeTarget
  /** for the one attempt (default 2000 ms) */
  timeoutMs?: number
  signal?: AbortSignal
}

export interface TraceFlow {
  hops: TraceHop[]
  packet: {sourcePort: number; sourceIp: string | null; result: string; error: string | null; ms: number}
  conntrack: {ip: string; port: number | null; state: string | null} | null
  cleanup: string[]
  notes: string[]
}

const v6 = (ip: string) => ip.includes(':')

/** nft words matching exactly our flow's first packet. */
function nftMatch(from: ProbeSource, to: ProbeTarget, port: number): string {
  const ip = v6(to.ip) ? 'ip6' : 'ip'
  const source = from.kind === 'pod' && from.ip ? `${ip} saddr ${from.ip} ` : ''
  const l4 = `${to.protocol} sport ${port} ${to.protocol} dport ${to.port}`
  return `${source}${ip} daddr ${to.ip} ${l4}${to.protocol === 'tcp' ? ' tcp flags syn / syn,ack' : ''}`
}

/** iptables words for the same, with our id in a comment so the rule is found again by its exact spec. */
function legacySpec(id: string, from: ProbeSource, to: ProbeTarget, port: number): string[] {
  const source = from.kind === 'pod' && from.ip ? ['-s', from.ip] : []
  const flags = to.protocol === 'tcp' ? ['--tcp-flags', 'SYN,ACK', 'SYN'] : []
  return [...source, '-d', to.ip, '-p', to.protocol, '-m', to.protocol, '--sport', String(port), '--dport', String(to.port), ...flags, '-m', 'comment', '--comment', `nodedoc trace ${id}`, '-j', 'TRACE']
}

/** The events of our packet: the trace id of the first packet event from our source port. */
function ourEvents(events: TraceEvent[], port: number, ownTable: string): TraceEvent[] {
  const first = events.find((e) => e.kind === 'packet' && e.fields?.SPT === String(port))
  if (!first) return []
  return events.filter((e) => e.id === first.id && e.kind !== 'packet' && e.table !== ownTable)
}

/** What a legacy rule's target does to the packet, in nf_tables' verdict words. */
function legacyVerdict(rule: string | undefined): string | null {
  if (!rule) return null
  const m = /(?:^|\s)-([jg])\s+(\S+)/.exec(rule.replace(/"[^"]*"/g, '""'))
  if (!m) return 'continue'
  const target = m[2]
  if (target === 'RETURN') return 'return'
  if (['ACCEPT', 'DNAT', 'SNAT', 'MASQUERADE', 'REDIRECT'].includes(target)) return 'accept'
  if (['DROP', 'REJECT'].includes(target)) return 'drop'
  if (/^[A-Z]+$/.test(target) && !target.startsWith('KUBE')) return 'continue'
  return `${m[1] === 'g' ? 'goto' : 'jump'} ${target}`
}

/** Legacy events carry table, chain and rule number: the rule set read right after gives the rest. */
function legacyHops(events: TraceEvent[], saveText: string, family: string, id: string): TraceHop[] {
  const dump = parseIptablesSave(saveText)
  const hops: TraceHop[] = []
  for (const e of events) {
    const chain = dump.tables.get(e.table)?.chains.get(e.chain)
    if (e.kind === 'policy') {
      hops.push({family, table: e.table, chain: e.chain, kind: 'policy', position: null, handle: null, rule: null, verdict: chain?.policy?.toLowerCase() ?? null})
      continue
    }
    if (e.kind === 'return') {
      hops.push({family, table: e.table, chain: e.chain, kind: 'return', position: e.ruleNumber, handle: null, rule: null, verdict: 'return'})
      continue
    }
    const rule = chain?.rules[(e.ruleNumber ?? 0) - 1]?.text
    if (rule?.includes(`nodedoc trace ${id}`)) continue
    hops.push({family, table: e.table, chain: e.chain, kind: 'rule', position: e.ruleNumber, handle: null, rule: rule ?? null, verdict: legacyVerdict(rule)})
  }
  return hops
}

/** nf_tables events carry rule handles: one `nft -a list chain` per chain gives their numbers. */
async function nftHops(host: Host, events: TraceEvent[]): Promise<TraceHop[]> {
  const handles = new Map<string, number[] | undefined>()
  for (const e of events) {
    const key = `${e.family}|${e.table}|${e.chain}`
    if (e.kind !== 'rule' || handles.has(key)) continue
    const listed = await host.run(['nft', '-a', 'list', 'chain', e.family, e.table, e.chain])
    handles.set(key, listed?.exitCode === 0 ? ruleHandles(listed.stdout) : undefined)
  }
  return events.map((e) => {
    const index = e.handle === null ? -1 : handles.get(`${e.family}|${e.table}|${e.chain}`)?.indexOf(e.handle) ?? -1
    return {family: e.family, table: e.table, chain: e.chain, kind: e.kind as TraceHop['kind'], position: index >= 0 ? index + 1 : null, handle: e.handle, rule: e.rule, verdict: e.verdict}
  })
}

/** The kernel log's last timestamp: lines of our packet come after it (the log's own clock, not /proc/uptime's). */
async function kernelLogEnd(host: Host): Promise<number | null> {
  const lines = ((await host.run(['dmesg']))?.stdout ?? '').trimEnd().split('\n')
  for (let i = lines.length - 1; i >= 0; i--) {
    const t = kernelLogTime(lines[i])
    if (t !== null) return t
  }
  return null
}

/** Sends one packet and records its path. The host must be the live node. */
export async function traceFlow(host: Host, options: TraceFlowOptions): Promise<TraceFlow> {
  if (host.root === undefined) throw new ProbeError('tracing sends a real packet: it needs the live node, not a snapshot')
  const {mode, from, to, signal} = options
  const netns = await expectedNetns(host, from)
  const notes = await sweepStaleJournals()
  const journal = await ProbeJournal.open('trace')
  const [port] = pickSourcePorts(1)
  const helpers: Helper[] = []
  const ownTable = `nodedoc-${journal.id}`
  let result: Omit<TraceFlow, 'cleanup' | 'notes'> | undefined
  let failure: unknown
  try {
    await journal.record({kind: 'conntrack', protocol: to.protocol, src: from.kind === 'pod' ? from.ip : null, dst: to.ip, dport: to.port, sports: [port]})
    const hook = from.kind === 'pod' ? 'prerouting' : 'output'
    const family = v6(to.ip) ? 'ip6' : 'ip'
    let since: number | null = null
    let monitor: Helper | undefined
    if (mode === 'iptables-legacy') {
      const backend = await host.readFile(`/proc/sys/net/netfilter/nf_log/${family === 'ip6' ? 10 : 2}`)
      if (backend?.trim() === 'NONE') notes.push(`net.netfilter.nf_log.${family === 'ip6' ? 10 : 2} is NONE: the kernel logs TRACE lines only once a logger is bound (nf_log_syslog)`)
      since = await kernelLogEnd(host)
      await addLegacyTraceRule(journal, family === 'ip6' ? 'ip6tables-legacy' : 'iptables-legacy', hook === 'prerouting' ? 'PREROUTING' : 'OUTPUT', legacySpec(journal.id, from, to, port))
    } else {
      // our table first: nft's monitor caches the rule set when it starts, and then sees no change
      helpers.push(await startNftTraceTable(journal, {table: ownTable, hook, match: nftMatch(from, to, port)}))
      monitor = await startTraceMonitor(journal, mode === 'iptables-nft' ? ['xtables-monitor', '--trace', family === 'ip6' ? '-6' : '-4'] : ['nft', '-a', 'monitor', 'trace'], signal)
      helpers.push(monitor)
    }
    const payload = to.protocol === 'udp' ? udpPayload(to, undefined, 0x6e64).payload.toString('base64') : undefined
    const request = {attempts: [{ip: to.ip, port: to.port, protocol: to.protocol, ports: [port], ...(payload ? {payload} : {})}], timeoutMs: options.timeoutMs ?? 2000, concurrency: 1}
    const [sent] = await runProbeClient(clientCommand(from.kind === 'pod' ? from.pid : null, host.root), request, netns, journal, signal)
    if (!signal?.aborted && sent) {
      let events: TraceEvent[] = []
      if (monitor) {
        const parse = mode === 'iptables-nft' ? parseXtablesTrace : parseNftTrace
        await settle(monitor, () => ourEvents(parse(monitor.lines.join('\n')), port, ownTable).length > 0, 300, 15_000, signal)
        events = ourEvents(parse(monitor.lines.join('\n')), port, ownTable)
      } else {
        for (let i = 0; i < 40 && !signal?.aborted; i++) {
          const log = await host.run(['dmesg'])
          const lines = (log?.stdout ?? '').split('\n').filter((l) => since === null || (kernelLogTime(l) ?? Infinity) > since)
          const found = parseKernelTrace(lines.join('\n'), family).filter((e) => e.fields?.SPT === String(port) && (from.kind !== 'pod' || !from.ip || e.fields?.SRC === from.ip))
          if (found.length && found.length === events.length) break
          events = found
          await new Promise((r) => setTimeout(r, 100))
        }
      }
      let hops: TraceHop[]
      if (mode === 'iptables-legacy') {
        // read while our TRACE rule still holds its place: raw rule numbers count it
        const save = await host.run([family === 'ip6' ? 'ip6tables-legacy-save' : 'iptables-legacy-save'])
        hops = legacyHops(events, save?.stdout ?? '', family, journal.id)
      } else {
        hops = await nftHops(host, events)
      }
      const flows = await listFlows(to.protocol, to.ip, to.port)
      const flow = flows?.find((f) => f.original.sport === port)
      result = {
        hops,
        packet: {sourcePort: sent.sourcePort, sourceIp: sent.sourceIp, result: sent.result, error: sent.error, ms: sent.ms},
        conntrack: flow ? {ip: flow.reply.src, port: flow.reply.sport, state: flow.state} : null,
      }
      if (events.length === 0) notes.push(mode === 'iptables-legacy' ? 'the kernel log holds no TRACE line for the packet (is a netfilter logger bound? is this the node\'s initial network namespace?)' : 'the trace monitor reported nothing for the packet')
    }
  } catch (error) {
    failure = error
  }
  for (const h of helpers.reverse()) await h.stop()
  const {removed, problems} = await journal.rollback()
  notes.push(...problems.map((p) => `could not remove: ${p}`))
  if (signal?.aborted) throw new ProbeAborted(removed, problems)
  if (failure instanceof ProbeClientError) throw new ProbeError(failure.message)
  if (failure instanceof Error && !(failure instanceof ProbeError)) throw new ProbeError(failure.message)
  if (failure) throw failure
  if (!result) throw new ProbeError('the probe client sent nothing')
  return {...result, cleanup: removed, notes}
}
