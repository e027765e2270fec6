// A program kept running and fed on its stdin (LiveHost.feed). node:child_process, not execa:
// it is started before anything else is loaded, and needs none of execa's buffering.

import {spawn} from 'node:child_process'
import type {FedProgram, FedListeners} from './host.js'
import {type EarlyFeed, killGroup, takeFeed} from './early.js'

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
  const early = takeFeed(argv)
  const child = early?.child ?? spawn(argv[0], argv.slice(1), {stdio: ['pipe', 'pipe', 'ignore'], env: {...process.env, LC_ALL: 'C'}, detached: true})
  let ended = false
  let exited = false
  const kill = () => {
    running.delete(kill)
    ended = true
    if (exited) return void child.stdin?.end()
    killGroup(child)
  }
  // an idle xargs whose input ends reaps its last run and exits: nothing left for init to reap
  const close = () => {
    if (ended) return
    ended = true
    child.stdin!.end()
    setTimeout(kill, GRACE_MS).unref()
  }
  running.add(kill)
  if (!exitHook) {
    exitHook = true
    process.once('exit', () => {
      for (const end of [...running]) end()
    })
  }
  let told = false
  const tell = (code: number | null | undefined) => {
    exited = true
    running.delete(kill)
    ended = true
    if (told) return
    told = true
    listeners.exit(code)
  }
  if (early) {
    adopt(early, listeners, tell)
  } else {
    // a program that ended early: writes to it fail with EPIPE, and its exit says the rest
    child.stdin!.on('error', () => undefined)
    child.stdout!.setEncoding('utf8')
    child.stdout!.on('data', (chunk: string) => listeners.stdout(chunk))
    // 'close': after the last stdout; 'error': it could not start (ENOENT) or be signalled
    child.on('close', (code) => tell(code))
    child.on('error', () => {
      if (child.pid === undefined) tell(undefined)
    })
  }
  return {
    write: (text) => {
      if (ended) return
      if (early?.pending.length) {
        // written before the CLI loaded: the same text is not written twice
        if (early.pending[0] === text) return void early.pending.shift()
        // the taker asks for something else: the answers on the way are not its, so it gets none
        early.pending.length = 0
        early.onStdout = () => undefined
        kill()
        return tell(undefined)
      }
      child.stdin!.write(text)
    },
    close,
    kill,
  }
}

/**
 * Hands an early-started program's stdout and exit to the taker: what came before, and the
 * rest, after the taker's writes of this turn (each waits for the answer of a write made early).
 */
function adopt(early: EarlyFeed, listeners: FedListeners, tell: (code: number | null | undefined) => void): void {
  setImmediate(() => {
    if (early.onStdout) return // given up in the meantime
    early.onStdout = (chunk) => listeners.stdout(chunk)
    for (const chunk of early.out.splice(0)) early.onStdout(chunk)
    if (early.exit) tell(early.exit.code)
    else early.onExit = tell
  })
}
