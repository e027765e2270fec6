// The launcher's early runs and listers (src/host/early.ts) started by one shell instead of one
// process start each from Node: a start from Node holds its main thread until the program has
// been executed (8-35 ms each on a busy 2-core machine, while the CLI waits to load), and the
// fork of Node's process costs the machine more CPU than bash's small one. Each run keeps its
// own stdout and stderr pipes, each lister its own stdin and stdout (Node hands them to the shell
// as file descriptors 3, 4, 5, ...); exit statuses come on the shell's stdout.
//
// The script is fixed; the argv reach it as data on its stdin, each argument one line, and are
// run as "$@": no word of them is ever read as shell code. bash, not sh: dash cannot close or
// name a file descriptor past 9, and each run's pipes must be closed in the others' processes
// (a pipe ends when its last writer is gone). `-p`: no BASH_ENV, no functions from the
// environment.

import {type ChildProcess, spawn} from 'node:child_process'
import type {Readable, Writable} from 'node:stream'
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
 * A lister kept running and fed on its stdin (src/host/fed.ts), in a process group of its own:
 * its stderr goes nowhere, as a fed program's does.
 */
export interface ShellFeed {
  stdin: Writable
  stdout: Readable
  /** its exit code once it has ended and its stdout is closed: null when killed, undefined when it is not there or the shell said nothing */
  done: Promise<number | null | undefined>
  /** SIGTERM to its process group (the lister and the listing it runs), now or once the shell has said which it is */
  kill(): void
  /** whether its pipes keep nodedoc running (not before it is taken) */
  hold(on: boolean): void
}

/**
 * For each start in turn: `run` or `feed` and its argument count, then each argument on a line.
 * "o pid P" once the run o (its stdout's descriptor) runs as P, "o group G" once the lister o
 * runs in the process group G, "o exit S" when either ends (S: 128+n when killed by signal n),
 * "o -" when the program is not there. A run gets its stdout and stderr on o and o+1, a lister
 * its stdout on o and its stdin on o+1. Each program holds no descriptor of another start: the
 * shell closes its own copies of a start's once it has made it, and the program closes those of
 * the starts not made yet. The shell waits for every one before it exits, so none is left for
 * init to reap.
 *
 * bash 5.1 and later start each program from the shell itself (one fork a start): its closes are
 * redirections of the start, a list made only of digits and `>&-`, given to `eval` with the argv
 * left as the quoted "$@" (eval reads "$@" as text and expands it to the arguments as words: no
 * argument is read as code). `set -m` for a lister's start alone: the job gets a process group of
 * its own, its pid. `wait -n -p` then says which ended, one at a time; where it returns, bash
 * counts the other programs already ended as told and `wait -n` no longer gives them (bash's own
 * rule for a shell run with -c), so before each `wait -n` the shell asks by pid for those it
 * knows are gone (no process with that pid: `kill -0` fails; bash kept their statuses), and for
 * every one left once `wait -n` says none runs (a pid taken again meanwhile). Older bash: a
 * subshell for each start, which closes the descriptors, starts the program and waits for it
 * (two forks a start). "$2" = subshells makes the shell take that way (the tests).
 */
const SCRIPT = [
  'case $1 in "" | *[!0-9]*) exit 1 ;; esac',
  'last=$1 k=3',
  'if [ "$2" != subshells ] && ((BASH_VERSINFO[0] > 5 || BASH_VERSINFO[0] == 5 && BASH_VERSINFO[1] >= 1)); then',
  '  w=() all= c= i=3',
  '  while [ "$i" -le "$last" ]; do c="$c$i>&- "; i=$((i + 1)); done',
  '  while read -r kind n; do',
  '    set --',
  '    while [ $# -lt "$n" ]; do IFS= read -r a || exit 1; set -- "$@" "$a"; done',
  "    o=$k e=$((k + 1)) k=$((k + 2)) c=${c#*' '} c=${c#*' '}",
  '    if ! command -v -- "$1" >/dev/null 2>&1; then',
  '      echo "$o -"',
  '    elif [ "$kind" = feed ]; then',
  '      set -m',
  `      eval '"$@" <&'$e' >&'$o' 2>/dev/null '$o'>&- '$e'>&- '"$c&"`,
  '      set +m',
  '      w[$!]=$o',
  '      echo "$o group $!"',
  '    else',
  `      eval '"$@" </dev/null >&'$o' 2>&'$e' '$o'>&- '$e'>&- '"$c&"`,
  '      w[$!]=$o',
  '      echo "$o pid $!"',
  '    fi',
  '    exec {o}>&- {e}>&-',
  '  done',
  '  while [ ${#w[@]} -gt 0 ]; do',
  '    for p in "${!w[@]}"; do',
  '      if [ -z "$all" ] && kill -0 "$p" 2>/dev/null; then continue; fi',
  '      wait "$p"',
  '      echo "${w[p]} exit $?"',
  '      unset "w[p]"',
  '    done',
  '    [ ${#w[@]} -gt 0 ] || break',
  '    unset p',
  '    wait -n -p p',
  '    s=$?',
  '    if [ -z "$p" ]; then all=1',
  '    elif [ -n "${w[p]}" ]; then echo "${w[p]} exit $s"; unset "w[p]"; fi',
  '  done',
  'else',
  '  while read -r kind n; do',
  '    set --',
  '    while [ $# -lt "$n" ]; do IFS= read -r a || exit 1; set -- "$@" "$a"; done',
  '    o=$k e=$((k + 1)) k=$((k + 2))',
  '    if ! command -v -- "$1" >/dev/null 2>&1; then',
  '      echo "$o -"',
  '    elif [ "$kind" = feed ]; then',
  '      set -m',
  '      (',
  '        i=$k; while [ "$i" -le "$last" ]; do exec {i}>&-; i=$((i + 1)); done',
  '        "$@" <&"$e" >&"$o" 2>/dev/null {o}>&- {e}>&- &',
  '        p=$!',
  '        exec {o}>&- {e}>&-',
  '        wait "$p"',
  '        echo "$o exit $?"',
  '      ) &',
  '      set +m',
  '      echo "$o group $!"',
  '    else',
  '      (',
  '        i=$k; while [ "$i" -le "$last" ]; do exec {i}>&-; i=$((i + 1)); done',
  '        "$@" </dev/null >&"$o" 2>&"$e" {o}>&- {e}>&- &',
  '        p=$!',
  '        echo "$o pid $p"',
  '        exec {o}>&- {e}>&-',
  '        wait "$p"',
  '        echo "$o exit $?"',
  '      ) &',
  '    fi',
  '    exec {o}>&- {e}>&-',
  '  done',
  '  wait',
  'fi',
].join('\n')

/** What the shell said of one start. */
interface Told {
  pid?: number
  group?: number
  status?: number | '-'
  /** the shell's stdout ended: nothing more will be said */
  silent?: boolean
  heard(): void
}

interface Pending {
  out: Buffer[]
  err: Buffer[]
  bytes: number
  spoiled: boolean
  timedOut: boolean
  /** stdout and stderr still open */
  open: number
  settled: boolean
  /** taken: the shell's stdout is held open for its status */
  held: boolean
  resolve(exit: ShellRunExit | undefined | null): void
}

/** An argv the script can take: each argument one line. */
const lineSafe = (argv: string[]) => argv.length > 0 && argv.every((arg) => !/[\n\0]/.test(arg))

type Pipe = NodeJS.ReadableStream & NodeJS.WritableStream & {ref?(): void; unref?(): void}

/** A status of 129-191 is a program killed by a signal. */
const bySignal = (status: number) => status > 128 && status < 192

/**
 * Starts every lister (first) and run through one bash; undefined when that cannot be (bash not
 * there, an argument holding a line break, fewer than two starts): the caller starts them one by
 * one. Each run is killed past timeoutMs, and its output past maxBytes is not an answer (null);
 * one killed by a signal has exit code 1, as a direct start reports it.
 */
export function startThroughShell(
  starts: {runs: string[][]; feeds?: string[][]},
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  maxBytes: number,
  /** the older bash's way, a subshell for each start, whatever bash is there (the tests) */
  {subshells = false}: {subshells?: boolean} = {},
): {runs: ShellRun[]; feeds: ShellFeed[]} | undefined {
  const feeds = starts.feeds ?? []
  const all = [...feeds, ...starts.runs]
  if (all.length < 2 || !all.every(lineSafe)) return undefined
  const last = 2 + 2 * all.length
  let child: ChildProcess
  try {
    // its own process group: nodedoc's exit ends it and every run still going at once
    child = spawn('bash', ['-p', '-c', SCRIPT, 'nodedoc-spawner', String(last), ...(subshells ? ['subshells'] : [])], {
      stdio: ['pipe', 'pipe', 'ignore', ...all.flatMap(() => ['pipe', 'pipe'] as const)],
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
  stdin.end(all.map((argv, i) => `${i < feeds.length ? 'feed' : 'run'} ${argv.length}\n${argv.join('\n')}\n`).join(''))
  const told = new Map<number, Told>()
  let held = 0
  const holdStatus = (on: boolean) => {
    held += on ? 1 : -1
    const status = child.stdout as unknown as {ref(): void; unref(): void}
    if (held > 0) status.ref()
    else status.unref()
  }
  const pipe = (fd: number) => child.stdio[fd] as unknown as Pipe
  const shellFeeds = feeds.map((_, i) => shellFeed(3 + 2 * i, pipe(3 + 2 * i), pipe(4 + 2 * i), told, holdStatus))
  const runs = starts.runs.map((_, j) => {
    const fd = 3 + 2 * (feeds.length + j)
    return shellRun(fd, pipe(fd), pipe(fd + 1), told, holdStatus, child.pid!, timeoutMs, maxBytes)
  })
  let partial = ''
  child.stdout!.setEncoding('utf8')
  child.stdout!.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n')
    partial = lines.pop()!
    for (const line of lines) {
      const [fd, what, value] = line.split(' ')
      const t = told.get(Number(fd))
      if (!t) continue
      if (what === '-') t.status = '-'
      else if (what === 'pid') t.pid = Number(value)
      else if (what === 'group') t.group = Number(value)
      else if (what === 'exit') t.status = Number(value)
      t.heard()
    }
  })
  // the shell gone with a start not reported: no answer from it (run() starts its own)
  child.stdout!.on('close', () => {
    for (const t of told.values()) {
      t.silent = true
      t.heard()
    }
  })
  for (const handle of [child, child.stdin, child.stdout]) (handle as unknown as {unref?(): void}).unref?.()
  for (const run of runs) run.hold(false)
  for (const feed of shellFeeds) feed.hold(false)
  return {runs, feeds: shellFeeds}
}

function shellRun(fd: number, stdout: Pipe, stderr: Pipe, told: Map<number, Told>, holdStatus: (on: boolean) => void, shellPid: number, timeoutMs: number, maxBytes: number): ShellRun {
  let resolve!: Pending['resolve']
  const done = new Promise<ShellRunExit | undefined | null>((r) => (resolve = r))
  const p: Pending = {out: [], err: [], bytes: 0, spoiled: false, timedOut: false, open: 2, settled: false, held: false, resolve}
  let killWanted = false
  const t: Told = {
    heard: () => {
      if (killWanted) killRun()
      settle()
    },
  }
  told.set(fd, t)
  const hold = (on: boolean) => {
    if (p.held === on) return
    p.held = on
    holdStatus(on)
  }
  const settle = () => {
    if (p.settled) return
    if (t.silent && t.status === undefined) {
      p.settled = true
      hold(false)
      return p.resolve(null)
    }
    if (p.open > 0 || t.status === undefined) return
    p.settled = true
    hold(false)
    if (t.status === '-') return p.resolve(undefined)
    if (p.spoiled) return p.resolve(null)
    const exitCode = bySignal(t.status) ? 1 : t.status
    p.resolve({stdout: stripFinalNewline(Buffer.concat(p.out).toString('utf8')), stderr: stripFinalNewline(Buffer.concat(p.err).toString('utf8')), exitCode, timedOut: p.timedOut})
  }
  // now: at nodedoc's exit (the pid not known yet: the whole group); else once the shell has said its pid
  const killRun = (now = true) => {
    if (p.settled || t.status !== undefined) return
    if (t.pid === undefined && !now) return void (killWanted = true)
    killWanted = false
    try {
      process.kill(t.pid ?? -shellPid, 'SIGTERM')
    } catch {
      // ended meanwhile
    }
  }
  stdout.on('data', (chunk: Buffer) => {
    p.bytes += chunk.length
    if (p.bytes <= maxBytes) return void p.out.push(chunk)
    if (p.spoiled) return
    p.spoiled = true
    p.out.length = 0
    killRun(false)
  })
  stderr.on('data', (chunk: Buffer) => p.err.push(chunk))
  for (const pipe of [stdout, stderr]) {
    pipe.on('close', () => {
      p.open--
      settle()
    })
  }
  const timer = setTimeout(() => {
    p.timedOut = true
    killRun(false)
  }, timeoutMs)
  timer.unref()
  done.then(() => clearTimeout(timer))
  return {
    done,
    kill: () => killRun(),
    hold: (on) => {
      for (const pipe of [stdout, stderr]) (on ? pipe.ref : pipe.unref)?.call(pipe)
      // the status line keeps nodedoc running while a run taken waits for it
      if (!p.settled) hold(on)
    },
  }
}

function shellFeed(fd: number, stdout: Pipe, stdin: Pipe, told: Map<number, Told>, holdStatus: (on: boolean) => void): ShellFeed {
  let resolve!: (code: number | null | undefined) => void
  const done = new Promise<number | null | undefined>((r) => (resolve = r))
  let open = true
  let settled = false
  let held = false
  let killWanted = false
  const hold = (on: boolean) => {
    if (held === on) return
    held = on
    holdStatus(on)
  }
  const settle = () => {
    if (settled) return
    if (t.status === '-') {
      settled = true
      hold(false)
      stdin.end()
      return resolve(undefined)
    }
    // its end is its stdout's end, and the status the shell says (if it can)
    if (open) return
    // killed by nodedoc: on the older bash its subshell with it, so no status comes
    if (t.status === undefined && killWanted) t.status = 143
    if (t.status === undefined && !t.silent) return
    settled = true
    hold(false)
    resolve(t.status === undefined ? undefined : bySignal(t.status) ? null : t.status)
  }
  const killGroup = () => {
    if (t.group === undefined || t.status !== undefined) return
    try {
      process.kill(-t.group, 'SIGTERM')
    } catch {
      // the group is gone already
    }
  }
  const t: Told = {
    heard: () => {
      if (killWanted) killGroup()
      settle()
    },
  }
  told.set(fd, t)
  stdin.on('error', () => undefined)
  stdout.on('close', () => {
    open = false
    settle()
  })
  return {
    stdin: stdin as unknown as Writable,
    stdout: stdout as unknown as Readable,
    done,
    kill: () => {
      stdin.end()
      killWanted = true
      killGroup()
    },
    hold: (on) => {
      for (const pipe of [stdout, stdin]) (on ? pipe.ref : pipe.unref)?.call(pipe)
      if (!settled) hold(on)
    },
  }
}
