import {spawn} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {open, readFile, stat} from 'node:fs/promises'
import {CONTAINERD_CONFIG, CONTAINERD_LOG, CONTAINERD_SOCKET} from './layout.js'

// PID 1 is not systemd here: containerd runs as our own background child, detached so that it
// outlives `npm run node:up`, and is stopped by the PID we recorded, never by name.

export async function startContainerd(): Promise<number> {
  const log = await open(CONTAINERD_LOG, 'a')
  const child = spawn('containerd', ['--config', CONTAINERD_CONFIG], {detached: true, stdio: ['ignore', log.fd, log.fd]})
  child.unref()
  await log.close()
  const pid = child.pid
  if (!pid) throw new Error('containerd did not start')
  const deadline = Date.now() + 20_000
  while (Date.now() < deadline) {
    if (!alive(pid)) throw new Error(`containerd exited at start; see ${CONTAINERD_LOG}`)
    const s = await stat(CONTAINERD_SOCKET).catch(() => undefined)
    if (s?.isSocket()) return pid
    await sleep(50)
  }
  throw new Error(`containerd socket ${CONTAINERD_SOCKET} did not appear within 20 s`)
}

/** SIGTERM that one PID, wait, then SIGKILL it if it lingers. Only if it is still containerd. */
export async function stopContainerd(pid: number): Promise<void> {
  if (!(await isContainerd(pid))) return
  process.kill(pid, 'SIGTERM')
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline && alive(pid)) await sleep(50)
  if (alive(pid)) process.kill(pid, 'SIGKILL')
  while (alive(pid)) await sleep(20)
}

export async function isContainerd(pid: number): Promise<boolean> {
  try {
    const comm = await readFile(`/proc/${pid}/comm`, 'utf8')
    return comm.trim() === 'containerd'
  } catch {
    return false
  }
}

/** Running and not a zombie (a zombie still answers kill(pid, 0)). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms))
}
