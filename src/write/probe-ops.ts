// The effectful side of `svc --probe` and `trace`: the journal of what a run adds to the node,
// the probing client it starts (in a pod's network namespace or the node's), and removing it
// all again. Every program runs through execa with an argument array; each helper process is
// started under `setpriv --pdeathsig SIGKILL`, so it dies with nodedoc even on SIGKILL.

import {randomBytes} from 'node:crypto'
import {existsSync} from 'node:fs'
import {mkdir, readFile, readdir, readlink, rename, rm, rmdir, writeFile} from 'node:fs/promises'
import {basename, dirname, join, resolve} from 'node:path'
import {createInterface} from 'node:readline'
import {fileURLToPath} from 'node:url'
import * as execa from 'execa'
import {parseConntrack, type ConntrackEntry} from '../parse/conntrack.js'
import {type Journal, type JournalEntry, describeEntry} from './probe-journal.js'
import type {ClientAttemptResult, ClientRequest} from './probe-client.js'

/** One file per running probe or trace: what it added, so a later run can remove what a killed one left. */
export const JOURNAL_DIR = '/run/nodedoc/probes'
const RUN_TIMEOUT_MS = 15_000

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? ''
}

/** Runs a program that changes the node; never throws for a failed exit (the caller judges). */
export async function runWrite(argv: string[], input?: string): Promise<{exitCode: number; stdout: string; stderr: string}> {
  const io = input === undefined ? {stdin: 'ignore' as const} : {input}
  const r = await execa.execa(argv[0], argv.slice(1), {reject: false, timeout: RUN_TIMEOUT_MS, ...io, env: {LC_ALL: 'C', PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}})
  if ((r as {code?: string}).code === 'ENOENT') return {exitCode: 127, stdout: '', stderr: `${argv[0]}: not installed`}
  return {exitCode: r.exitCode ?? 1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? r.shortMessage ?? '')}
}

/** Start time of a process (clock ticks since boot), or null when it is gone. */
export async function startTimeOf(pid: number): Promise<number | null> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8')
    return Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[19])
  } catch {
    return null
  }
}

/** True while the PID still names the process with that start time (never a recycled PID). */
export async function stillRunning(pid: number, startTime: number): Promise<boolean> {
  if ((await startTimeOf(pid)) !== startTime) return false
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '')
  return status !== '' && !/^State:\s+Z/m.test(status)
}

/** The journal folder, and /run/nodedoc itself, go with the last journal (as the sandbox's folders do). */
async function removeEmptyJournalDir(dir: string): Promise<void> {
  for (const path of dir === JOURNAL_DIR ? [dir, dirname(dir)] : [dir]) {
    // ENOTEMPTY: another run (or a sandbox) still uses it
    if (await rmdir(path).then(() => false, () => true)) return
  }
}

/** The journal of one run, on disk before anything it lists exists. */
export class ProbeJournal {
  private constructor(private readonly journal: Journal, private readonly file: string) {}

  static async open(command: string, dir = JOURNAL_DIR): Promise<ProbeJournal> {
    const id = randomBytes(4).toString('hex')
    const journal: Journal = {id, pid: process.pid, startTime: (await startTimeOf(process.pid)) ?? -1, command, entries: []}
    const j = new ProbeJournal(journal, join(dir, `${id}.json`))
    await j.save()
    return j
  }

  get id(): string {
    return this.journal.id
  }

  get entries(): readonly JournalEntry[] {
    return this.journal.entries
  }

  private async save(): Promise<void> {
    // another run may remove the empty folder between our mkdir and write: make it again once
    for (let attempt = 0; ; attempt++) {
      try {
        await mkdir(dirname(this.file), {recursive: true})
        await writeFile(`${this.file}.tmp`, JSON.stringify(this.journal, null, 2) + '\n')
        await rename(`${this.file}.tmp`, this.file)
        return
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt > 2) throw error
      }
    }
  }

  /** Writes an entry down; call before the thing exists. */
  async record(entry: JournalEntry): Promise<void> {
    this.journal.entries.push(entry)
    await this.save()
  }

  /** Adds source ports to a recorded conntrack entry (a port taken by something else makes the client use the next). */
  async update(): Promise<void> {
    await this.save()
  }

  /** Removes everything recorded, newest first, then the journal itself. Returns what was removed and what could not be. */
  async rollback(): Promise<{removed: string[]; problems: string[]}> {
    const removed: string[] = []
    const problems: string[] = []
    for (const entry of [...this.journal.entries].reverse()) {
      const done = await undoEntry(entry)
      if (done.problem) problems.push(done.problem)
      if (done.removed) removed.push(done.removed)
    }
    await rm(this.file, {force: true})
    await removeEmptyJournalDir(dirname(this.file))
    return {removed, problems}
  }
}

/** Conntrack entries of our own flows, by exact original tuple. Returns how many were there. */
async function deleteFlows(e: Extract<JournalEntry, {kind: 'conntrack'}>): Promise<{problem: string | null; count: number}> {
  const listed = await runWrite(['conntrack', '-L', '-p', e.protocol, '-d', e.dst, '--dport', String(e.dport)])
  if (listed.exitCode === 127) return {problem: 'conntrack: not installed; our conntrack entries expire by themselves', count: 0}
  const ours = new Set(e.sports)
  const found = parseConntrack(listed.stdout).filter((c) => c.original.sport !== null && ours.has(c.original.sport) && (e.src === null || c.original.src === e.src))
  let count = 0
  for (const c of found) {
    const argv = ['conntrack', '-D', '-p', e.protocol, '-s', c.original.src, '-d', c.original.dst, '--sport', String(c.original.sport), '--dport', String(c.original.dport)]
    const r = await runWrite(argv)
    // "0 flow entries have been deleted": it expired meanwhile
    if (r.exitCode !== 0 && !/0 flow entries/.test(r.stderr)) return {problem: `${argv.join(' ')}: ${firstLine(r.stderr)}`, count}
    count++
  }
  return {problem: null, count}
}

export interface Undone {
  /** what could not be removed */
  problem: string | null
  /** what was there and is gone now; null when nothing of it existed (or it is a helper process) */
  removed: string | null
}

/** Removes one journal entry; "already gone" is success. */
export async function undoEntry(e: JournalEntry): Promise<Undone> {
  switch (e.kind) {
    case 'process':
      if (await stillRunning(e.pid, e.startTime)) {
        try {
          process.kill(e.pid, 'SIGKILL')
        } catch {}
      }
      return {problem: null, removed: null}
    case 'conntrack': {
      const {problem, count} = await deleteFlows(e)
      return {problem, removed: count ? `${count} conntrack entr${count === 1 ? 'y' : 'ies'} ${e.protocol} ${e.src ?? '*'} -> ${e.dst}:${e.dport} (our source ports)` : null}
    }
    case 'nft-table': {
      const r = await runWrite(['nft', 'delete', 'table', e.family, e.name])
      // with `flags owner` the kernel has usually dropped it already, when its nft process ended
      if (r.exitCode === 0) return {problem: null, removed: describeEntry(e)}
      if (/No such file|does not exist/i.test(r.stderr)) return {problem: null, removed: `${describeEntry(e)} (gone with its nft process)`}
      return {problem: `nft delete table ${e.family} ${e.name}: ${firstLine(r.stderr)}`, removed: null}
    }
    case 'iptables-rule': {
      // the spec carries our id in its comment: -C finds only ours
      let removed: string | null = null
      for (let i = 0; i < 10; i++) {
        const check = await runWrite([e.program, '-w', '-t', e.table, '-C', e.chain, ...e.spec])
        if (check.exitCode !== 0) return {problem: null, removed}
        const r = await runWrite([e.program, '-w', '-t', e.table, '-D', e.chain, ...e.spec])
        if (r.exitCode !== 0) return {problem: `${e.program} -t ${e.table} -D ${e.chain}: ${firstLine(r.stderr)}`, removed}
        removed = describeEntry(e)
      }
      return {problem: `${e.program} -t ${e.table} ${e.chain}: our rule is still there after 10 deletes`, removed}
    }
  }
}

/**
 * Journals left by runs that are gone (killed with SIGKILL, the machine's power cut short): what
 * they list is removed. A journal whose process still runs belongs to a concurrent nodedoc and is
 * left alone. Returns one line per run cleaned up.
 */
export async function sweepStaleJournals(dir = JOURNAL_DIR): Promise<string[]> {
  const notes: string[] = []
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.endsWith('.json')) continue
    const file = join(dir, name)
    let journal: Journal
    try {
      journal = JSON.parse(await readFile(file, 'utf8')) as Journal
    } catch {
      continue
    }
    if (!journal || typeof journal.pid !== 'number' || !Array.isArray(journal.entries)) continue
    if (await stillRunning(journal.pid, journal.startTime)) continue
    const problems: string[] = []
    const removed: string[] = []
    for (const entry of [...journal.entries].reverse()) {
      const done = await undoEntry(entry)
      if (done.problem) problems.push(done.problem)
      if (done.removed) removed.push(done.removed)
    }
    await rm(file, {force: true})
    await removeEmptyJournalDir(dir)
    notes.push(`removed what an interrupted nodedoc ${journal.command} (pid ${journal.pid}) left: ${removed.join('; ') || 'nothing was left'}${problems.length ? ` (could not remove: ${problems.join('; ')})` : ''}`)
  }
  return notes
}

/**
 * How to start the probing client: node with dist/src/write/probe-client.js when that file is
 * there (a checkout after tsc), else the CLI itself with the hidden `probe-client` command (the
 * esbuild bundle, the single executable).
 */
export function probeClientArgv(): string[] {
  const candidates: string[] = []
  try {
    const here = fileURLToPath(import.meta.url)
    candidates.push(here.includes('/dist/') ? here.replace(/probe-ops\.js$/, 'probe-client.js') : here.replace(/\/src\/write\/probe-ops\.ts$/, '/dist/src/write/probe-client.js'))
  } catch {}
  if (process.argv[1]) candidates.push(resolve(dirname(process.argv[1]), '../dist/src/write/probe-client.js'))
  const isNode = /^node(js)?(\d+)?(\.exe)?$/.test(basename(process.execPath))
  const script = candidates.find((c) => c.endsWith('/dist/src/write/probe-client.js') && existsSync(c))
  if (isNode && script) return [process.execPath, script]
  return isNode ? [process.execPath, process.argv[1], 'probe-client'] : [process.execPath, 'probe-client']
}

/** The client's argv: in the network namespace of `netnsPid` (nsenter --net, nothing else changes), or in this one. */
export function clientCommand(netnsPid: number | null, root = '/'): string[] {
  const enter = netnsPid !== null ? ['nsenter', `--net=${join(root, 'proc', String(netnsPid), 'ns', 'net')}`, '--'] : []
  return ['setpriv', '--pdeathsig', 'SIGKILL', '--', ...enter, ...probeClientArgv()]
}

export class ProbeClientError extends Error {}

/**
 * Runs the client: sends the request, checks it stands in the expected network namespace, lets
 * it go, and collects one result per attempt. The process is journaled as soon as it has a PID;
 * on abort it is killed and what it finished so far is returned.
 */
export async function runProbeClient(argv: string[], request: ClientRequest, expectedNetns: string | null, journal: ProbeJournal, signal?: AbortSignal): Promise<ClientAttemptResult[]> {
  const child = execa.execa(argv[0], argv.slice(1), {reject: false, cleanup: false, stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', env: {LC_ALL: 'C', PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}, buffer: {stdout: false, stderr: true}})
  const exited = child.then((r) => r)
  if (child.pid === undefined) {
    const r = await exited
    throw new ProbeClientError(`${argv[0]}: ${firstLine(String(r.stderr || r.shortMessage))}`)
  }
  const pid = child.pid
  const kill = () => child.kill('SIGKILL')
  const onAbort = () => kill()
  signal?.addEventListener('abort', onAbort, {once: true})
  try {
    await journal.record({kind: 'process', pid, startTime: (await startTimeOf(pid)) ?? -1, what: 'probe client'})
    const lines = createInterface({input: child.stdout!})[Symbol.asyncIterator]()
    child.stdin!.on('error', () => undefined)
    child.stdin!.write(JSON.stringify(request) + '\n')
    const hello = await lines.next()
    if (hello.done) {
      kill()
      const r = await exited
      throw new ProbeClientError(`the probe client did not start: ${firstLine(String(r.stderr || r.shortMessage || 'no output'))}`)
    }
    const said = JSON.parse(hello.value) as {netns?: string | null; fatal?: string}
    if (said.fatal) throw new ProbeClientError(`the probe client failed: ${said.fatal}`)
    if (expectedNetns && said.netns !== expectedNetns) {
      kill()
      throw new ProbeClientError(`the probe client landed in ${said.netns ?? 'an unknown network namespace'}, not the pod's ${expectedNetns}: did the pod restart? nothing was sent`)
    }
    if (signal?.aborted) return []
    child.stdin!.write('go\n')
    child.stdin!.end()
    const results: ClientAttemptResult[] = []
    for await (const line of {[Symbol.asyncIterator]: () => lines}) {
      const value = JSON.parse(line) as ClientAttemptResult & {fatal?: string}
      if (value.fatal) throw new ProbeClientError(`the probe client failed: ${value.fatal}`)
      results.push(value)
    }
    await exited
    return results
  } finally {
    signal?.removeEventListener('abort', onAbort)
    kill()
    await exited.catch(() => undefined)
  }
}

/** This process's own network namespace ("net:[4026531840]"): where a --from-node client must land. */
export async function ownNetns(): Promise<string | null> {
  return readlink('/proc/self/ns/net').catch(() => null)
}

/** Conntrack entries of flows to one frontend (a read: conntrack -L changes nothing). */
export async function listFlows(protocol: string, dst: string, dport: number): Promise<ConntrackEntry[] | undefined> {
  const r = await runWrite(['conntrack', '-L', '-p', protocol, '-d', dst, '--dport', String(dport)])
  if (r.exitCode === 127) return undefined
  return parseConntrack(r.stdout)
}
