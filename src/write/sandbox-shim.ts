// The per-container shim of `nodedoc sandbox`, in containerd-shim's role, in two processes: the
// container's parent is a shell (<container dir>/shim, a link to sh, started by the CLI: a node
// process takes tens of milliseconds to start, and the container's start waited for it), which
// runs the container's chain held at a gate and says its exit status; this log writer, started
// by the CLI as the gate opens, writes the container's stdout/stderr in CRI log format and
// records the exit. Run as `node sandbox-shim.js -`: the config path comes as the first line on
// stdin; fds 3 and 4 carry the container's stdout and stderr, fd 5 the status its parent says
// when it ends.

import {appendFileSync, readFileSync, writeFileSync} from 'node:fs'
import {Socket} from 'node:net'
import {constants} from 'node:os'

export interface ShimConfig {
  logPath: string
  exitPath: string
}

/**
 * The container's parent: runs the chain (the mark stays in its own environment, not the
 * container's), its fd 4 closed for the chain, then says the chain's status on fd 4.
 */
export const SHIM_SCRIPT = 'unset NODEDOC_SANDBOX_UID; "$@" 4>&-; echo $? >&4'

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

/**
 * What the parent's status line says. sh gives 128+N for a chain killed by signal N, as runc
 * does to containerd (kubectl shows a SIGKILL as exit code 137), so exitCode keeps that number;
 * signal names N as a reading of it, which a chain that itself exits 128+N shares.
 */
export function exitRecord(status: string, finishedAt: Date): {exitCode: number | null; signal: string | null; finishedAt: string} {
  const code = /^\d+$/.test(status) ? Number(status) : null
  const signal = code !== null && code > 128 ? Object.entries(constants.signals).find(([, n]) => n === code - 128)?.[0] ?? null : null
  return {exitCode: code, signal, finishedAt: finishedAt.toISOString()}
}

/** All a stream of an inherited fd says, chunk by chunk, until it ends. */
function drain(fd: number, take: (chunk: string) => void): Promise<void> {
  return new Promise((resolve) => {
    const stream = new Socket({fd, readable: true, writable: false})
    stream.setEncoding('utf8')
    stream.on('data', take)
    stream.on('error', () => undefined)
    stream.on('close', () => resolve())
  })
}

/** The first line on stdin, or null when the CLI closed it first (it needed no container, or went away). */
function firstLine(): Promise<string | null> {
  return new Promise((resolve) => {
    let text = ''
    process.stdin.setEncoding('utf8')
    process.stdin.on('data', (chunk: string) => {
      text += chunk
      const newline = text.indexOf('\n')
      if (newline >= 0) {
        process.stdin.destroy()
        resolve(text.slice(0, newline))
      }
    })
    process.stdin.on('error', () => resolve(null))
    process.stdin.on('end', () => resolve(null))
  })
}

async function main(): Promise<void> {
  const configPath = await firstLine()
  if (configPath === null) process.exit(0)
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as ShimConfig
  const append = (line: string) => appendFileSync(config.logPath, line)
  const out = new CriLineWriter('stdout', append)
  const err = new CriLineWriter('stderr', append)
  let status = ''
  await Promise.all([
    drain(3, (c) => out.push(c)).then(() => out.end()),
    drain(4, (c) => err.push(c)).then(() => err.end()),
    drain(5, (c) => (status += c)),
  ])
  writeFileSync(config.exitPath, JSON.stringify(exitRecord(status.trim(), new Date())) + '\n')
  process.exit(0)
}

/** Runs the log writer in this process (the hidden `nodedoc sandbox shim -`, for bundled builds). */
export function runShim(): void {
  process.on('SIGINT', () => undefined)
  process.on('SIGHUP', () => undefined)
  main().catch(() => process.exit(1))
}

// started as a script: node dist/src/write/sandbox-shim.js -
if (process.argv[1]?.endsWith('sandbox-shim.js') && process.argv[2]) runShim()
