// A program kept running and fed on its stdin (LiveHost.feed). node:child_process, not execa:
// it is started before anything else is loaded, and needs none of execa's buffering.

import type {FedProgram, FedListeners} from './host.js'
import {type EarlyFeed, startFeed, takeFeed} from './early.js'

/** Every fed program still running, killed when nodedoc exits however it exits (an error, a throw). */
const running = new Set<() => void>()

/** How long a program whose stdin was closed may take to end by itself before it is killed. */
const GRACE_MS = 1000
let exitHook = false

/**
 * Starts argv with its stdin a pipe nodedoc writes to, stdout handed over piece by piece, stderr
 * dropped, LC_ALL=C, in a process group of its own. Nothing outlives nodedoc: close() ends the
 * stdin (a lister's `read` then ends its loop once its run in progress is done) and SIGTERMs the group a second
 * later if it is still there; kill() SIGTERMs the group at once (the lister and the run it is
 * waiting for), as process exit does to every one still running; a nodedoc killed outright
 * closes the pipe.
 */
export function spawnFed(argv: string[], listeners: FedListeners): FedProgram {
  // started before the CLI loaded (src/host/early.ts), else now, the same way
  const early = takeFeed(argv)
  const feed = early ?? startFeed(argv, [])
  if (!early) feed.hold(true)
  let ended = false
  let exited = false
  const kill = () => {
    running.delete(kill)
    ended = true
    if (exited) return void feed.end()
    feed.kill()
  }
  // an idle lister whose input ends reaps its last run and exits: nothing left for init to reap
  const close = () => {
    if (ended) return
    ended = true
    feed.end()
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
  const handOver = adopt(feed, listeners, tell)
  return {
    write: (text) => {
      if (ended) return
      if (feed.pending.length) {
        // written before the CLI loaded: the same text is not written twice
        if (feed.pending[0] === text) {
          feed.pending.shift()
          if (!feed.pending.length) setImmediate(handOver)
          return
        }
        // the taker asks for something else: the answers on the way are not its, so it gets none
        feed.pending.length = 0
        feed.onStdout = () => undefined
        kill()
        return tell(undefined)
      }
      feed.write(text)
    },
    close,
    kill,
  }
}

/**
 * Hands the program's stdout and exit to the taker. One started early with writes made for it:
 * what came before, and the rest, once the taker has made every one of those writes itself (and
 * the turn it made the last in has ended): an answer never comes before the taker has asked the
 * question (IPv6's lister answers its early KUBE-SERVICES before gatherPath asks, which it does
 * once the hint probe has answered). One started now: at once. Returns the hand-over.
 */
function adopt(feed: EarlyFeed, listeners: FedListeners, tell: (code: number | null | undefined) => void): () => void {
  const handOver = () => {
    if (feed.onStdout) return // given up in the meantime
    feed.onStdout = (chunk) => listeners.stdout(chunk)
    for (const chunk of feed.out.splice(0)) feed.onStdout(chunk)
    if (feed.exit) tell(feed.exit.code)
    else feed.onExit = tell
  }
  if (!feed.pending.length) handOver()
  return handOver
}
