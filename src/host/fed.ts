// A program kept running and fed on its stdin (LiveHost.feed). node:child_process, not execa:
// it is started before anything else is loaded, and needs none of execa's buffering.

import {spawn} from 'node:child_process'
import type {FedProgram, FedListeners} from './host.js'

/** Every fed program still running, killed when nodedoc exits however it exits (an error, a throw). */
const running = new Set<() => void>()

/** How long a program whose stdin was closed may take to end by itself before it is killed. */
const GRACE_MS = 1000
let exitHook = false

/**
 * Starts argv with its stdin a pipe nodedoc writes to, stdout handed over piece by piece, stderr
 * dropped, LC_ALL=C, in a process group of its own. Nothing outlives nodedoc: close() ends the
 * stdin (an xargs then exits once its run in progress is done) and SIGTERMs the group a second
 * later if it is still there; kill() SIGTERMs the group at once (an xargs and the run it is
 * waiting for), as process exit does to every one still running; a nodedoc killed outright
 * closes the pipe.
 */
export function spawnFed(argv: string[], listeners: FedListeners): FedProgram {
  const child = spawn(argv[0], argv.slice(1), {stdio: ['pipe', 'pipe', 'ignore'], env: {...process.env, LC_ALL: 'C'}, detached: true})
  let ended = false
  let exited = false
  const kill = () => {
    running.delete(kill)
    ended = true
    child.stdin.end()
    if (exited || child.pid === undefined) return
    try {
      process.kill(-child.pid, 'SIGTERM')
    } catch {
      // the group is gone already
    }
  }
  // an idle xargs whose input ends reaps its last run and exits: nothing left for init to reap
  const close = () => {
    if (ended) return
    ended = true
    child.stdin.end()
    setTimeout(kill, GRACE_MS).unref()
  }
  running.add(kill)
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
    running.delete(kill)
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
    kill,
  }
}
