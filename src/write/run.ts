// Runs one program of a sandbox step: argument array, a timeout, the C locale so that the
// error text we match is the English one.
//
// Through node:child_process itself, not execa: a create runs about twenty programs, and execa's
// per-run work (its streams, an AbortController, its own exit cleanup) cost the CLI about twice
// node's own spawn in CPU time, plus loading its 140 KiB on every create. What a step needs is
// small: stdin from a string or nothing, stdout and stderr collected, a timeout, and execa's
// failure line where the program said nothing.

import {spawn} from 'node:child_process'
import {stripFinalNewline} from '../host/host.js'

export const RUN_TIMEOUT_MS = 15_000

/** After a timeout's SIGTERM, how long a program has before SIGKILL (execa's default). */
const FORCE_KILL_AFTER_MS = 5_000

/** Why a step failed, in one line. */
export function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? ''
}

export function errno(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException)?.code
}

/** What a program did: its exit, what it wrote, and (failed) the one-line reason when it wrote nothing. */
export interface RunResult {
  failed: boolean
  exitCode?: number
  signal?: string
  /** the spawn's own error code (ENOENT: no such program) */
  code?: string
  stdout: string
  stderr: string
  shortMessage: string
}

/** The descriptions execa (human-signals) gives the signals a step's program may die of. */
const SIGNALS: Record<string, string> = {
  SIGTERM: 'Termination', SIGKILL: 'Forced termination', SIGINT: 'User interruption with CTRL-C', SIGHUP: 'Terminal closed',
  SIGPIPE: 'Broken pipe or socket', SIGSEGV: 'Segmentation fault', SIGABRT: 'Aborted', SIGQUIT: 'User interruption with CTRL-\\',
  SIGBUS: 'Bus error due to misaligned, non-existing address or paging error', SIGILL: 'Invalid machine instruction',
  SIGFPE: 'Floating point arithmetic error', SIGUSR1: 'Application-specific signal', SIGUSR2: 'Application-specific signal',
  SIGALRM: 'Timeout or timer', SIGSYS: 'Invalid system call', SIGTRAP: 'Debugger breakpoint', SIGXCPU: 'Process timed out', SIGXFSZ: 'File too big',
}

/** The command as execa quotes it in its messages. */
function quoted(argv: string[]): string {
  return argv.map((a) => (/^[\w./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`)).join(' ')
}

/**
 * Runs argv with stdin from input (or none), env = this process's plus LC_ALL=C, and collects
 * stdout and stderr. Never rejects: a program that is missing, fails, is killed or times out
 * comes back failed, as execa's `reject: false` result.
 */
export function runProgram(argv: string[], options: {input?: string; timeoutMs?: number} = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), {stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env: {...process.env, LC_ALL: 'C'}})
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout!.on('data', (chunk: Buffer) => out.push(chunk))
    child.stderr!.on('data', (chunk: Buffer) => err.push(chunk))
    let timedOut = false
    let forced = false
    let force: NodeJS.Timeout | undefined
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => {
      timedOut = true
      child.kill('SIGTERM')
      force = setTimeout(() => {
        forced = true
        child.kill('SIGKILL')
      }, FORCE_KILL_AFTER_MS)
    }, options.timeoutMs)
    let spawnError: NodeJS.ErrnoException | undefined
    const done = (exitCode: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer)
      clearTimeout(force)
      const stdout = stripFinalNewline(Buffer.concat(out).toString())
      const stderr = stripFinalNewline(Buffer.concat(err).toString())
      const failed = spawnError !== undefined || timedOut || signal !== null || exitCode !== 0
      const prefix = timedOut
        ? `Command timed out after ${options.timeoutMs} milliseconds${forced ? ` and was forcefully terminated after ${FORCE_KILL_AFTER_MS} milliseconds` : ''}`
        : spawnError ? `Command failed with ${spawnError.code}`
          : signal ? `Command was killed with ${signal} (${SIGNALS[signal] ?? signal})`
            : `Command failed with exit code ${exitCode}`
      const cause = spawnError ? `\n${spawnError.message}` : ''
      resolve({failed, exitCode: exitCode ?? undefined, signal: signal ?? undefined, code: spawnError?.code, stdout, stderr, shortMessage: failed ? `${prefix}: ${quoted(argv)}${cause}` : ''})
    }
    child.once('error', (error) => {
      spawnError = error
      // a program that never started has no exit to wait for
      if (child.pid === undefined) done(null, null)
    })
    child.once('close', done)
    if (options.input !== undefined) {
      // a program that exits without reading all of it closes the pipe: not a failure of its own
      child.stdin!.on('error', () => undefined)
      child.stdin!.end(options.input)
    }
  })
}

/** Runs argv (stdin: `input`, or nothing); throws one line naming the program and what it said. */
export async function run(argv: string[], input?: string): Promise<void> {
  let result = await runProgram(argv, {input, timeoutMs: RUN_TIMEOUT_MS})
  // two sandboxes putting the same gateway /32 on their veths at the same instant can race in
  // the kernel's local table (EEXIST); that line only replaces, so the batch on stdin goes on
  // from the line that failed (`ip -batch -` names it: "Command failed -:N"), the lines before
  // it being done, and the run with it (what comes after the batch, as in net.veth's shell)
  let lines = input?.split('\n') ?? []
  const failedAt = () => Number(/Command failed -:(\d+)/.exec(result.stderr)?.[1] ?? 0)
  for (let retry = 0; retry < 3 && result.failed && input !== undefined && /File exists/.test(result.stderr) && /^(address|route) replace /.test(lines[failedAt() - 1] ?? ''); retry++) {
    lines = lines.slice(failedAt() - 1)
    await new Promise((r) => setTimeout(r, 20 + Math.random() * 30))
    result = await runProgram(argv, {input: lines.join('\n'), timeoutMs: RUN_TIMEOUT_MS})
  }
  if (result.code === 'ENOENT') throw new Error(`${argv[0]}: not installed`)
  if (result.failed) throw new Error(`${argv.join(' ')}: ${firstLine(result.stderr || result.stdout || result.shortMessage)}`)
}

/** Runs an undo's argv; what is already gone (`gone` matches the error) is not a problem. */
export async function runUndo(argv: string[], gone: RegExp): Promise<string[]> {
  const result = await runProgram(argv, {timeoutMs: RUN_TIMEOUT_MS})
  if (result.failed && !gone.test(result.stderr)) return [`${argv.join(' ')}: ${firstLine(result.stderr)}`]
  return []
}
