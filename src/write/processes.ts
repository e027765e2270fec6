// The processes a sandbox starts: marked by PID and start time so that a recycled PID is never
// mistaken for ours, found again by an environment mark when the state file lost them.

import type {ChildProcess} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {readFile, readdir} from 'node:fs/promises'
import {parseProcStat, parseProcStatus} from '../parse/proc.js'
import type {ProcessMark} from './ops.js'

/**
 * A /proc file of one process, read in place: it never waits on a kernel lock, and in libuv's
 * pool of four threads it queued behind the v1 cgroup writes a create makes at the same time.
 */
function procFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

export async function readStartTime(pid: number): Promise<number | null> {
  const text = procFile(`/proc/${pid}/stat`)
  return text === undefined ? null : (parseProcStat(text)?.startTime ?? null)
}

/** True when the PID still names the process we started (not a recycled PID), and it is not a zombie. */
export async function isAlive(mark: ProcessMark | undefined): Promise<boolean> {
  if (!mark) return false
  const start = await readStartTime(mark.pid)
  if (start === null || start !== mark.startTime) return false
  return parseProcStatus(procFile(`/proc/${mark.pid}/status`) ?? '')?.state !== 'Z'
}

export async function markOf(pid: number): Promise<ProcessMark> {
  return {pid, startTime: (await readStartTime(pid)) ?? -1}
}

/**
 * Waits until pid has executed the program whose comm is `comm`: the last exec of a chain such
 * as `unshare --net -- pause` or `nsenter ... unshare --mount ... sh` (gate), which comes after
 * every namespace and mount change before it. Until then `nsenter --target pid` would enter the
 * host's own namespaces. Throws once the process is gone or has not got there in time.
 */
export async function execedAs(pid: number, comm: string, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const text = procFile(`/proc/${pid}/comm`)
    if (text === undefined) throw new Error(`process ${pid} exited early`)
    if (text.replace(/\n$/, '') === comm) return
    if (Date.now() >= deadline) throw new Error(`process ${pid} did not exec ${comm} in time (it is ${text.trim()})`)
    await new Promise((r) => setTimeout(r, 1))
  }
}

/** The first child of pid (the process unshare/nsenter forks), waiting for it to appear. */
export async function childOf(pid: number, timeoutMs = 2000): Promise<number> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const text = procFile(`/proc/${pid}/task/${pid}/children`)
    if (text === undefined) throw new Error(`process ${pid} exited early`)
    if (text.trim()) return Number(text.trim().split(/\s+/)[0])
    await new Promise((r) => setTimeout(r, 2))
  }
  throw new Error(`process ${pid} did not fork in time`)
}

/** How long a SIGKILLed process is waited for before a rollback goes on without it. */
const EXIT_WAIT_MS = 2000

async function until(done: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + EXIT_WAIT_MS
  while (!(await done()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2))
}

/** Kills the process and returns once it has exited (a zombie counts: it holds nothing but its PID). */
export async function killMark(mark: ProcessMark | undefined): Promise<void> {
  if (!mark || !(await isAlive(mark))) return
  try {
    process.kill(mark.pid, 'SIGKILL')
  } catch {}
  await until(async () => !(await isAlive(mark)))
}

/** Resolves once this process's child has exited and was reaped (at once when it had). */
export function reaped(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, EXIT_WAIT_MS)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
  })
}

async function carriesMark(pid: string, needle: string): Promise<boolean> {
  const environ = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '')
  return environ.split('\0').includes(needle)
}

/**
 * Every process whose environment carries NODEDOC_SANDBOX_UID=uid: the last resort of a
 * rollback. Returns once none does (a process that has exited shows an empty environment).
 */
export async function killMarkedProcesses(uid: string): Promise<void> {
  const needle = `NODEDOC_SANDBOX_UID=${uid}`
  const killed: string[] = []
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^[0-9]+$/.test(entry) || !(await carriesMark(entry, needle))) continue
    try {
      process.kill(Number(entry), 'SIGKILL')
      killed.push(entry)
    } catch {}
  }
  await until(async () => !(await Promise.all(killed.map((pid) => carriesMark(pid, needle)))).some(Boolean))
}
