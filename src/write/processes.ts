// The processes a sandbox starts: marked by PID and start time so that a recycled PID is never
// mistaken for ours, found again by an environment mark when the state file lost them.

import {readFile, readdir} from 'node:fs/promises'
import {parseProcStat, parseProcStatus} from '../parse/proc.js'
import type {ProcessMark} from './ops.js'

export async function readStartTime(pid: number): Promise<number | null> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined)
  return text === undefined ? null : (parseProcStat(text)?.startTime ?? null)
}

/** True when the PID still names the process we started (not a recycled PID), and it is not a zombie. */
export async function isAlive(mark: ProcessMark | undefined): Promise<boolean> {
  if (!mark) return false
  const start = await readStartTime(mark.pid)
  if (start === null || start !== mark.startTime) return false
  const status = await readFile(`/proc/${mark.pid}/status`, 'utf8').catch(() => '')
  return parseProcStatus(status)?.state !== 'Z'
}

export async function markOf(pid: number): Promise<ProcessMark> {
  return {pid, startTime: (await readStartTime(pid)) ?? -1}
}

/** The first child of pid (the process unshare/nsenter forks), waiting for it to appear. */
export async function childOf(pid: number, timeoutMs = 2000): Promise<number> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => undefined)
    if (text === undefined) throw new Error(`process ${pid} exited early`)
    if (text.trim()) return Number(text.trim().split(/\s+/)[0])
    await new Promise((r) => setTimeout(r, 2))
  }
  throw new Error(`process ${pid} did not fork in time`)
}

export async function killMark(mark: ProcessMark | undefined): Promise<void> {
  if (!mark || !(await isAlive(mark))) return
  try {
    process.kill(mark.pid, 'SIGKILL')
  } catch {}
}

/** Every process whose environment carries NODEDOC_SANDBOX_UID=uid: the last resort of a rollback. */
export async function killMarkedProcesses(uid: string): Promise<void> {
  const needle = `NODEDOC_SANDBOX_UID=${uid}`
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^[0-9]+$/.test(entry)) continue
    const environ = await readFile(`/proc/${entry}/environ`, 'utf8').catch(() => '')
    if (environ.split('\0').includes(needle)) {
      try {
        process.kill(Number(entry), 'SIGKILL')
      } catch {}
    }
  }
}
