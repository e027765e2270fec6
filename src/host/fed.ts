// A program kept running and fed on its stdin (LiveHost.feed). node:child_process, not execa:
// it is started before anything else is loaded, and needs none of execa's buffering.

import {spawn} from 'node:child_process'
import type {FedProgram, FedListeners} from './host.js'

/** Every fed program still running, ended when nodedoc exits however it exits (an error, a throw). */
const running = new Set<() => void>()
let exitHook = false

/**
 * Starts argv with its stdin a pipe nodedoc writes to, stdout handed over piece by piece, stderr
 * dropped, LC_ALL=C, in a process group of its own. Nothing outlives nodedoc: close() ends the
 * stdin and SIGTERMs the group (an xargs and the run it is waiting for); at process exit every
 * one still open is closed the same way; a nodedoc killed outright closes the pipe, and an
 * xargs whose input ends exits once its run in progress is done.
 */
export function spawnFed(argv: string[], listeners: FedListeners): FedProgram {
  const child = spawn(argv[0], argv.slice(1), {stdio: ['pipe', 'pipe', 'ignore'], env: {...process.env, LC_ALL: 'C'}, detached: true})
  let ended = false
  let exited = false
  const close = () => {
    if (ended) return
    ended = true
    running.delete(close)
    child.stdin.end()
    if (exited || child.pid === undefined) return
    try {
      process.kill(-child.pid, 'SIGTERM')
    } catch {
      // the group is gone already
    }
  }
  running.add(close)
  if (!exitHook) {
    exitHook = true
    process.once('exit', () => {
      for (const end of [...running]) end()
    })
  }
  // a program that ended early: writes to it fail with EPIPE, and its exit says the rest
  child.stdin.on('error', () => undefined)
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (chunk: string) => listeners.stdout(chunk))
  let told = false
  const tell = (code: number | null | undefined) => {
    exited = true
    running.delete(close)
    ended = true
    if (told) return
    told = true
    listeners.exit(code)
  }
  // 'close': after the last stdout; 'error': it could not start (ENOENT) or be signalled
  child.on('close', (code) => tell(code))
  child.on('error', () => {
    if (child.pid === undefined) tell(undefined)
  })
  return {
    write: (text) => {
      if (!ended) child.stdin.write(text)
    },
    close,
  }
}
