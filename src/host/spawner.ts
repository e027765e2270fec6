// The launcher's early runs (src/host/early.ts) started by one shell instead of one process start
// each from Node: a start from Node holds its main thread until the program has been executed
// (8-35 ms each on a busy 2-core machine, while the CLI waits to load); the shell's own starts
// cost that thread nothing. Each run keeps its own stdout and stderr pipes (Node hands them to
// the shell as file descriptors 3, 4, 5, ...), its exit status comes on the shell's stdout.
//
// The script is fixed; the argv reach it as data on its stdin, each argument one line, and are
// run as "$@": no word of them is ever read as shell code. bash, not sh: dash cannot close or
// name a file descriptor past 9, and each run's pipes must be closed in the others' processes
// (a pipe ends when its last writer is gone). `-p`: no BASH_ENV, no functions from the
// environment.

import {type ChildProcess, spawn} from 'node:child_process'
import {stripFinalNewline} from './host.js'

/** A run's answer as run() gives it; undefined: the program is not there; null: none to hand over (start it again). */
export interface ShellRunExit {
  stdout: string
  stderr: string
  exitCode: number
  timedOut: boolean
}

export interface ShellRun {
  done: Promise<ShellRunExit | undefined | null>
  /** SIGTERM to the program, if it still runs */
  kill(): void
  /** whether its pipes keep nodedoc running (not before it is taken) */
  hold(on: boolean): void
}

/**
 * For each argv in turn: its argument count, then each argument on a line. "o pid P" once the
 * program o (its stdout's descriptor) runs, "o exit S" when it ends, "o -" when it is not there.
 * The descriptors of the runs not started yet ($k up to $1) are closed in each run's subshell;
 * the shell closes its own copies of a run's once it has started it. It waits for every run
 * before it exits, so none is left for init to reap.
 */
const SCRIPT = [
  'last=$1 k=3',
  'while read -r n; do',
  '  set --',
  '  while [ $# -lt "$n" ]; do IFS= read -r a || exit 1; set -- "$@" "$a"; done',
  '  o=$k e=$((k + 1)) k=$((k + 2))',
  '  if command -v -- "$1" >/dev/null 2>&1; then',
  '    (',
  '      i=$k; while [ "$i" -le "$last" ]; do exec {i}>&-; i=$((i + 1)); done',
  '      "$@" </dev/null >&"$o" 2>&"$e" {o}>&- {e}>&- &',
  '      p=$!',
  '      echo "$o pid $p"',
  '      exec {o}>&- {e}>&-',
  '      wait "$p"',
  '      echo "$o exit $?"',
  '    ) &',
  '  else',
  '    echo "$o -"',
  '  fi',
  '  exec {o}>&- {e}>&-',
  'done',
  'wait',
].join('\n')

interface Pending {
  out: Buffer[]
  err: Buffer[]
  bytes: number
  spoiled: boolean
  timedOut: boolean
  pid?: number
  status?: number | '-'
  /** stdout and stderr still open */
  open: number
  settled: boolean
  /** taken: the shell's stdout is held open for its status */
  held: boolean
  resolve(exit: ShellRunExit | undefined | null): void
}

/** An argv the script can take: each argument one line. */
const lineSafe = (argv: string[]) => argv.length > 0 && argv.every((arg) => !/[\n\0]/.test(arg))

/**
 * Starts every argv through one bash; undefined when that cannot be (bash not there, an argument
 * holding a line break): the caller starts them one by one. Each is killed past timeoutMs, and
 * its output past maxBytes is not an answer (null). A status of 129-191 is a program killed by a
 * signal: exit code 1, as a direct start reports it.
 */
export function startThroughShell(argvs: string[][], env: NodeJS.ProcessEnv, timeoutMs: number, maxBytes: number): ShellRun[] | undefined {
  if (argvs.length < 2 || !argvs.every(lineSafe)) return undefined
  const last = 2 + 2 * argvs.length
  let child: ChildProcess
  try {
    // its own process group: nodedoc's exit ends it and every run still going at once
    child = spawn('bash', ['-p', '-c', SCRIPT, 'nodedoc-spawner', String(last)], {
      stdio: ['pipe', 'pipe', 'ignore', ...argvs.flatMap(() => ['pipe', 'pipe'] as const)],
      env: {...env, BASH_ENV: undefined, ENV: undefined},
      detached: true,
    })
  } catch {
    return undefined
  }
  if (child.pid === undefined) {
    child.on('error', () => undefined)
    return undefined
  }
  child.on('error', () => undefined)
  const stdin = child.stdin!
  stdin.on('error', () => undefined)
  stdin.end(argvs.map((argv) => `${argv.length}\n${argv.join('\n')}\n`).join(''))
  const byFd = new Map<number, Pending>()
  let held = 0
  const holdStatus = (p: Pending, on: boolean) => {
    if (p.held === on) return
    p.held = on
    held += on ? 1 : -1
    const status = child.stdout as unknown as {ref(): void; unref(): void}
    if (held > 0) status.ref()
    else status.unref()
  }
  const settle = (p: Pending) => {
    if (p.settled || p.open > 0 || p.status === undefined) return
    p.settled = true
    holdStatus(p, false)
    if (p.status === '-') return p.resolve(undefined)
    if (p.spoiled) return p.resolve(null)
    const exitCode = p.status > 128 && p.status < 192 ? 1 : p.status
    p.resolve({stdout: stripFinalNewline(Buffer.concat(p.out).toString('utf8')), stderr: stripFinalNewline(Buffer.concat(p.err).toString('utf8')), exitCode, timedOut: p.timedOut})
  }
  const killRun = (p: Pending) => {
    if (p.settled || p.status !== undefined) return
    try {
      // the pid not known yet: the whole group
      process.kill(p.pid ?? -child.pid!, 'SIGTERM')
    } catch {
      // ended meanwhile
    }
  }
  const runs = argvs.map((_, i): ShellRun => {
    const fd = 3 + 2 * i
    const stdout = child.stdio[fd] as NodeJS.ReadableStream & {unref?(): void; ref?(): void}
    const stderr = child.stdio[fd + 1] as NodeJS.ReadableStream & {unref?(): void; ref?(): void}
    let resolve!: Pending['resolve']
    const done = new Promise<ShellRunExit | undefined | null>((r) => (resolve = r))
    const p: Pending = {out: [], err: [], bytes: 0, spoiled: false, timedOut: false, open: 2, settled: false, held: false, resolve}
    byFd.set(fd, p)
    stdout.on('data', (chunk: Buffer) => {
      p.bytes += chunk.length
      if (p.bytes <= maxBytes) return void p.out.push(chunk)
      if (p.spoiled) return
      p.spoiled = true
      p.out.length = 0
      killRun(p)
    })
    stderr.on('data', (chunk: Buffer) => p.err.push(chunk))
    for (const pipe of [stdout, stderr]) {
      pipe.on('close', () => {
        p.open--
        settle(p)
      })
    }
    const timer = setTimeout(() => {
      p.timedOut = true
      killRun(p)
    }, timeoutMs)
    timer.unref()
    done.then(() => clearTimeout(timer))
    return {
      done,
      kill: () => killRun(p),
      hold: (on) => {
        for (const pipe of [stdout, stderr]) (on ? pipe.ref : pipe.unref)?.call(pipe)
        // the status line keeps nodedoc running while a run taken waits for it
        if (!p.settled) holdStatus(p, on)
      },
    }
  })
  let partial = ''
  child.stdout!.setEncoding('utf8')
  child.stdout!.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n')
    partial = lines.pop()!
    for (const line of lines) {
      const [fd, what, value] = line.split(' ')
      const p = byFd.get(Number(fd))
      if (!p) continue
      if (what === '-') p.status = '-'
      else if (what === 'pid') p.pid = Number(value)
      else if (what === 'exit') p.status = Number(value)
      if (p.status === undefined) continue
      settle(p)
    }
  })
  // the shell gone with a run not reported: no answer from it, run() starts its own
  child.stdout!.on('close', () => {
    for (const p of byFd.values()) {
      if (p.settled || p.status !== undefined) continue
      p.settled = true
      holdStatus(p, false)
      p.resolve(null)
    }
  })
  for (const handle of [child, child.stdin, child.stdout]) (handle as unknown as {unref?(): void}).unref?.()
  for (const run of runs) run.hold(false)
  return runs
}
