// The per-container shim of `nodedoc sandbox`, in containerd-shim's role: it starts the
// container's process chain held at a gate, tells the CLI the PIDs, opens the gate when told,
// then outlives the CLI to write the container's stdout/stderr in CRI log format and record
// its exit. Run as `node sandbox-shim.js <shim.json>`; talks JSON lines on stdin/stdout.

import {spawn} from 'node:child_process'
import {appendFileSync, readFileSync, writeFileSync} from 'node:fs'
import {createInterface} from 'node:readline'
import {parseProcStat} from '../parse/proc.js'
import {execedAs} from './processes.js'

export interface ShimConfig {
  chain: string[]
  env: Record<string, string>
  /** 'child': the held process is the first child of the chain's first process (a fork in unshare/nsenter). */
  gated: 'self' | 'child'
  /** the held process's comm once its chain has set up (at the gate): only then is it the container's */
  ready: string
  logPath: string
  exitPath: string
}

/** CRI caps a log line at 16 KiB; longer lines are split into P(artial) pieces. */
const MAX_LINE = 16 * 1024

/** RFC3339Nano, as Go prints it: trailing zeros of the fraction dropped. */
export function rfc3339Nano(epochNs: bigint): string {
  const ms = Number(epochNs / 1_000_000n)
  const base = new Date(ms).toISOString().slice(0, 19)
  const fraction = (epochNs % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '')
  return `${base}${fraction ? '.' + fraction : ''}Z`
}

const origin = BigInt(Math.round(performance.timeOrigin * 1e3)) * 1000n
function nowNs(): bigint {
  return origin + BigInt(Math.round(performance.now() * 1e6))
}

/** Splits a chunk stream into CRI lines: `<time> <stream> <P|F> <text>`. */
export class CriLineWriter {
  private pending = ''
  constructor(private readonly stream: 'stdout' | 'stderr', private readonly write: (line: string) => void, private readonly clock: () => bigint = nowNs) {}

  push(chunk: string): void {
    this.pending += chunk
    let newline: number
    while ((newline = this.pending.indexOf('\n')) >= 0) {
      this.emit(this.pending.slice(0, newline), 'F')
      this.pending = this.pending.slice(newline + 1)
    }
    while (Buffer.byteLength(this.pending) > MAX_LINE) {
      this.emit(this.pending.slice(0, MAX_LINE), 'P')
      this.pending = this.pending.slice(MAX_LINE)
    }
  }

  /** At EOF an unterminated line is still a line. */
  end(): void {
    if (this.pending) this.emit(this.pending, 'F')
    this.pending = ''
  }

  private emit(text: string, tag: 'P' | 'F'): void {
    let rest = text
    while (Buffer.byteLength(rest) > MAX_LINE) {
      this.write(`${rfc3339Nano(this.clock())} ${this.stream} P ${rest.slice(0, MAX_LINE)}\n`)
      rest = rest.slice(MAX_LINE)
    }
    this.write(`${rfc3339Nano(this.clock())} ${this.stream} ${tag} ${rest}\n`)
  }
}

function say(message: object): void {
  try {
    process.stdout.write(JSON.stringify(message) + '\n')
  } catch {
    // the CLI is gone: nobody to tell
  }
}

function startTime(pid: number): number | null {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.startTime ?? null
  } catch {
    return null
  }
}

async function heldPid(first: number, gated: 'self' | 'child'): Promise<number | null> {
  if (gated === 'self') return first
  for (let i = 0; i < 500; i++) {
    try {
      const children = readFileSync(`/proc/${first}/task/${first}/children`, 'utf8').trim()
      if (children) return Number(children.split(/\s+/)[0])
    } catch {
      return null
    }
    await new Promise((r) => setTimeout(r, 2))
  }
  return null
}

/** Lines from the CLI, one at a time; null once it closed our stdin (it exited or gave up). */
class ControlLines {
  private readonly queue: string[] = []
  private waiting: ((line: string | null) => void) | null = null
  private closed = false
  constructor() {
    const control = createInterface({input: process.stdin})
    control.on('line', (line) => this.take(line))
    control.on('close', () => {
      this.closed = true
      this.take(null)
    })
  }

  private take(line: string | null): void {
    if (this.waiting) {
      const wake = this.waiting
      this.waiting = null
      wake(line)
    } else if (line !== null) this.queue.push(line)
  }

  next(): Promise<string | null> {
    if (this.queue.length) return Promise.resolve(this.queue.shift()!)
    if (this.closed) return Promise.resolve(null)
    return new Promise((resolve) => (this.waiting = resolve))
  }
}

/**
 * configArg `-`: started ahead of its step (node takes tens of milliseconds to start, which
 * then overlap the sandbox's other steps); the config path comes as the first line on stdin.
 */
async function main(configArg: string): Promise<void> {
  process.stdout.on('error', () => undefined)
  const control = new ControlLines()
  const configPath = configArg === '-' ? await control.next() : configArg
  // the CLI went away (or needed no container) before it handed this shim a container
  if (configPath === null) process.exit(0)
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as ShimConfig
  // stdin from the CLI, stdout/stderr to the shim, fd 3: the gate
  const child = spawn(config.chain[0], config.chain.slice(1), {env: config.env, stdio: ['ignore', 'pipe', 'pipe', 'pipe']})
  let released = false
  const append = (line: string) => appendFileSync(config.logPath, line)
  // the runtime creates the log file when the container starts, output or not
  append('')
  const out = new CriLineWriter('stdout', append)
  const err = new CriLineWriter('stderr', append)
  child.stdout!.setEncoding('utf8').on('data', (c: string) => out.push(c))
  child.stderr!.setEncoding('utf8').on('data', (c: string) => err.push(c))
  const gate = child.stdio[3] as NodeJS.WritableStream & {destroy(): void}
  gate.on('error', () => undefined)
  let exited = false
  const closed = new Promise<void>((resolve) => child.on('close', (code, signal) => {
    exited = true
    out.end()
    err.end()
    writeFileSync(config.exitPath, JSON.stringify({exitCode: code, signal, finishedAt: new Date().toISOString()}) + '\n')
    resolve()
  }))
  child.on('error', (error) => {
    say({error: `${config.chain[0]}: ${error.message}`})
  })
  if (child.pid === undefined) {
    await closed.catch(() => undefined)
    process.exit(1)
  }
  let held = await heldPid(child.pid, config.gated)
  // the CLI's next steps enter its mount namespace: not before unshare has made it private
  if (held !== null) held = await execedAs(held, config.ready).then(() => held, () => null)
  if (held === null || exited) {
    say({error: `the container process exited before it could be held (${config.chain.slice(0, 3).join(' ')} ...)`})
    await closed
    process.exit(1)
  }
  say({pid: child.pid, held, startTime: startTime(held)})

  void (async () => {
    for (;;) {
      const line = await control.next()
      if (line === null) {
        // the CLI went away before opening the gate: nothing must run
        if (!released) {
          try {
            process.kill(held, 'SIGKILL')
          } catch {}
          child.kill('SIGKILL')
        }
        return
      }
      if (line.trim() !== 'go' || released) continue
      released = true
      gate.write('\n')
      gate.end()
      say({released: true})
    }
  })()
  await closed
  process.exit(0)
}

/** Runs the shim in this process (the hidden `nodedoc sandbox shim CONFIG`, for bundled builds). */
export function runShim(configPath: string): void {
  process.on('SIGINT', () => undefined)
  process.on('SIGHUP', () => undefined)
  main(configPath).catch((error) => {
    say({error: (error as Error).message})
    process.exit(1)
  })
}

// started as a script: node dist/src/write/sandbox-shim.js CONFIG
if (process.argv[1]?.endsWith('sandbox-shim.js') && process.argv[2]) runShim(process.argv[2])
