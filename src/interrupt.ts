// The one way nodedoc learns that it should stop: Ctrl-C (SIGINT), SIGTERM, SIGHUP (the
// operator's ssh session dropped), output nobody reads any more (EPIPE: `... | head` exited;
// EIO: the terminal is gone), and, for work that must clean up, an error nothing caught.
// A command asks for an AbortSignal and checks it between steps; written once here, as
// crictl's interrupt handler is, so every command stops the same way.

export type InterruptCause = 'SIGINT' | 'SIGTERM' | 'SIGHUP' | 'closed output' | 'uncaught error'

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const

/** Exit codes as a shell reports a process ended by that signal (128 + number; EPIPE as SIGPIPE). */
const EXIT_CODES: Record<InterruptCause, number> = {SIGINT: 130, SIGTERM: 143, SIGHUP: 129, 'closed output': 141, 'uncaught error': 70}

export interface Interrupt {
  readonly signal: AbortSignal
  /** Why it fired; undefined while it has not. */
  readonly cause: InterruptCause | undefined
  /** The error nobody caught, when that is the cause. */
  readonly error: unknown
  /** What the process should exit with after stopping for this cause. */
  readonly exitCode: number
  /** Stops listening (the default behaviour of each signal returns). */
  dispose(): void
}

interface Scope {
  abort(cause: InterruptCause, error?: unknown): void
}

const scopes = new Set<Scope>()
let outputWatched = false

/** EPIPE or EIO on stdout/stderr: nobody reads. Inside an interrupt scope that stops the work; outside, the process ends quietly. */
function onOutputError(error: NodeJS.ErrnoException): void {
  if (error.code !== 'EPIPE' && error.code !== 'EIO' && error.code !== 'ERR_STREAM_DESTROYED') throw error
  if (scopes.size > 0) {
    for (const scope of scopes) scope.abort('closed output')
    return
  }
  process.exit(EXIT_CODES['closed output'])
}

/**
 * Output that nobody reads ends the process quietly (exit 141, as a shell reports SIGPIPE)
 * instead of with a stack trace; under interruptOn() it stops the work instead. Installed once.
 */
export function watchOutput(): void {
  if (outputWatched) return
  outputWatched = true
  watchWhenOpened('stdout')
  watchWhenOpened('stderr')
}

/**
 * The handler goes on the stream when something first uses it: Node makes process.stderr on
 * first use, and for a pipe that loads its net module (~2 ms), for a run that may never write
 * there. Node defines both as configurable getters; anything else is watched at once.
 */
function watchWhenOpened(name: 'stdout' | 'stderr'): void {
  const own = Object.getOwnPropertyDescriptor(process, name)
  const open = own?.get
  if (!open || !own.configurable) {
    process[name].on('error', onOutputError)
    return
  }
  Object.defineProperty(process, name, {
    ...own,
    get() {
      const stream = open.call(process)
      Object.defineProperty(process, name, own)
      stream.on('error', onOutputError)
      return stream
    },
  })
}

/**
 * An AbortSignal that fires on SIGINT, SIGTERM, SIGHUP and closed output, and with
 * {uncaught: true} also on an uncaught exception or unhandled rejection (work that must roll
 * back rather than die half-done). Until dispose(), those no longer end the process: the
 * caller stops at its next check, cleans up, and exits with `exitCode`.
 */
export function interruptOn(options: {uncaught?: boolean} = {}): Interrupt {
  watchOutput()
  const controller = new AbortController()
  let cause: InterruptCause | undefined
  let uncaught: unknown
  const scope: Scope = {
    abort(why, error) {
      if (cause !== undefined) return
      cause = why
      uncaught = error
      controller.abort(why)
    },
  }
  const bySignal = Object.fromEntries(SIGNALS.map((s) => [s, () => scope.abort(s)]))
  const byError = (error: unknown) => scope.abort('uncaught error', error)
  for (const s of SIGNALS) process.on(s, bySignal[s])
  if (options.uncaught) {
    process.on('uncaughtException', byError)
    process.on('unhandledRejection', byError)
  }
  scopes.add(scope)
  return {
    signal: controller.signal,
    get cause() {
      return cause
    },
    get error() {
      return uncaught
    },
    get exitCode() {
      return cause ? EXIT_CODES[cause] : 0
    },
    dispose() {
      scopes.delete(scope)
      for (const s of SIGNALS) process.off(s, bySignal[s])
      process.off('uncaughtException', byError)
      process.off('unhandledRejection', byError)
    },
  }
}

/** Runs work with an interrupt listening (interruptOn), and stops listening when it ends, however it ends. */
export async function withInterrupt<T>(work: (interrupt: Interrupt) => Promise<T>, options: {uncaught?: boolean} = {}): Promise<T> {
  const interrupt = interruptOn(options)
  try {
    return await work(interrupt)
  } finally {
    interrupt.dispose()
  }
}
