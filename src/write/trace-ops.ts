// The effectful side of `nodedoc trace`: marking one packet for tracing and listening to what
// the kernel says about it.
//  - nf_tables (iptables-nft, kube-proxy's nftables mode): a table of our own,
//    `inet nodedoc-<id>`, holding one `meta nftrace set 1` rule for exactly our flow, created
//    with `flags owner` by an `nft -i` process we keep: the kernel drops the table the moment that
//    process ends, whatever ends it. The monitor is `xtables-monitor --trace` for iptables-nft
//    (it prints iptables' own rule text and fetches only the rules it prints) or
//    `nft -a monitor trace`.
//  - iptables-legacy: one TRACE rule for our flow, first in the raw table's PREROUTING (or
//    OUTPUT), its comment carrying our id; the kernel log has the trace.
// Every step is journaled before it happens; every process runs under `setpriv --pdeathsig`.

import {readFile, readdir, readlink} from 'node:fs/promises'
import {createInterface} from 'node:readline'
import * as execa from 'execa'
import type {ProbeJournal} from './probe-ops.js'
import {runWrite, startTimeOf} from './probe-ops.js'
import {firstLine} from './run.js'

const PATH = process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'
const READY_TIMEOUT_MS = 120_000

/** A helper process we started: its output so far, and a way to end it. */
export interface Helper {
  readonly lines: string[]
  readonly pid: number
  /** resolves when the process has ended (for any reason) */
  readonly ended: Promise<void>
  stop(): Promise<void>
}

function spawnHelper(argv: string[]): {child: ReturnType<typeof execa.execa>; lines: string[]; errors: string[]} {
  const child = execa.execa('setpriv', ['--pdeathsig', 'SIGKILL', '--', ...argv], {reject: false, cleanup: false, stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', env: {LC_ALL: 'C', PATH}, buffer: false})
  const lines: string[] = []
  const errors: string[] = []
  createInterface({input: child.stdout!}).on('line', (l) => lines.push(l))
  createInterface({input: child.stderr!}).on('line', (l) => errors.push(l))
  child.stdin!.on('error', () => undefined)
  return {child, lines, errors}
}

async function started(journal: ProbeJournal, child: ReturnType<typeof execa.execa>, what: string, errors: string[]): Promise<number> {
  if (child.pid === undefined) {
    const r = await child
    throw new Error(`${what}: ${firstLine(errors.join('\n') || String(r.shortMessage ?? 'did not start'))}`)
  }
  await journal.record({kind: 'process', pid: child.pid, startTime: (await startTimeOf(child.pid)) ?? -1, what})
  return child.pid
}

function helperOf(child: ReturnType<typeof execa.execa>, pid: number, lines: string[]): Helper {
  const ended = child.then(() => undefined, () => undefined)
  return {
    lines, pid, ended,
    async stop() {
      child.stdin?.end()
      child.kill('SIGTERM')
      const late = setTimeout(() => child.kill('SIGKILL'), 2000)
      await ended
      clearTimeout(late)
    },
  }
}

/** `nft` statements that set nftrace on exactly one flow's first packet. */
export interface NftTraceRule {
  /** inet nodedoc-<id> */
  table: string
  /** prerouting: traffic from a pod; output: traffic from the node itself */
  hook: 'prerouting' | 'output'
  /** the match, e.g. "ip saddr 10.88.0.5 ip daddr 10.96.0.10 tcp sport 20001 tcp dport 80 tcp flags syn / syn,ack" */
  match: string
}

/**
 * Creates our trace table through an `nft -i` process that owns it, and waits until nft lists
 * it back. Priority -350: before raw (-300), conntrack (-200) and kube-proxy's own chains, so
 * every one of them sees the mark.
 */
export async function startNftTraceTable(journal: ProbeJournal, rule: NftTraceRule): Promise<Helper> {
  await journal.record({kind: 'nft-table', family: 'inet', name: rule.table})
  const {child, lines, errors} = spawnHelper(['nft', '-i'])
  const pid = await started(journal, child, 'nft -i (owns the trace table)', errors)
  const helper = helperOf(child, pid, lines)
  // one line, one transaction: the table never exists without its rule
  child.stdin!.write(`add table inet ${rule.table} { flags owner; }; add chain inet ${rule.table} trace { type filter hook ${rule.hook} priority -350; }; add rule inet ${rule.table} trace ${rule.match} meta nftrace set 1\n`)
  child.stdin!.write(`list table inet ${rule.table}\n`)
  const deadline = Date.now() + 10_000
  while (!lines.some((l) => l.startsWith(`table inet ${rule.table}`))) {
    if (errors.some((l) => /^Error/.test(l)) || Date.now() > deadline) {
      await helper.stop()
      throw new Error(`nft could not create table inet ${rule.table}: ${errors.find((l) => /^Error/.test(l)) ?? 'no answer in 10 s'}`)
    }
    await new Promise((r) => setTimeout(r, 10))
  }
  return helper
}

/** Netlink sockets (protocol 12, netfilter) of a process that have joined a multicast group. */
async function subscribed(pid: number): Promise<boolean> {
  const inodes = new Set<string>()
  for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [] as string[])) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')
    const m = /^socket:\[(\d+)\]$/.exec(target)
    if (m) inodes.add(m[1])
  }
  if (inodes.size === 0) return false
  const table = await readFile('/proc/net/netlink', 'utf8').catch(() => '')
  return table.split('\n').slice(1).some((line) => {
    const f = line.trim().split(/\s+/)
    // sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
    return f[1] === '12' && inodes.has(f[9]) && /[1-9a-f]/i.test(f[3] ?? '')
  })
}

/**
 * Starts a trace monitor and waits until it listens: its netfilter netlink socket has joined
 * the trace group (nft loads its rule cache first, which takes seconds on large rule sets;
 * `xtables-monitor` does not). What it prints comes in `lines`.
 */
export async function startTraceMonitor(journal: ProbeJournal, argv: string[], signal?: AbortSignal): Promise<Helper> {
  const {child, lines, errors} = spawnHelper(argv)
  const pid = await started(journal, child, argv.join(' '), errors)
  const helper = helperOf(child, pid, lines)
  let exited = false
  void helper.ended.then(() => (exited = true))
  const deadline = Date.now() + READY_TIMEOUT_MS
  // setpriv execs the monitor in place: the PID is the monitor's
  while (!(await subscribed(pid))) {
    if (exited || signal?.aborted || Date.now() > deadline) {
      await helper.stop()
      if (signal?.aborted) return helper
      throw new Error(`${argv[0]} ${exited ? `exited: ${firstLine(errors.join('\n')) || 'no message'}` : 'did not start listening in 120 s'}`)
    }
    await new Promise((r) => setTimeout(r, 20))
  }
  return helper
}

/** Waits until a helper's output has been quiet for `quietMs` after `done()` holds, or the deadline passes. */
export async function settle(helper: Helper, done: () => boolean, quietMs: number, deadlineMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + deadlineMs
  let seen = helper.lines.length
  let quietSince = Date.now()
  while (Date.now() < deadline && !signal?.aborted) {
    await new Promise((r) => setTimeout(r, 25))
    if (helper.lines.length !== seen) {
      seen = helper.lines.length
      quietSince = Date.now()
    } else if (done() && Date.now() - quietSince >= quietMs) {
      return
    }
  }
}

/** Inserts the legacy TRACE rule first in a raw chain (journaled first; the undo deletes it by its exact spec). */
export async function addLegacyTraceRule(journal: ProbeJournal, program: string, chain: 'PREROUTING' | 'OUTPUT', spec: string[]): Promise<void> {
  await journal.record({kind: 'iptables-rule', program, table: 'raw', chain, spec})
  const r = await runWrite([program, '-w', '-t', 'raw', '-I', chain, '1', ...spec])
  if (r.exitCode !== 0) throw new Error(`${program} -t raw -I ${chain}: ${firstLine(r.stderr)}`)
}
