// The live machine side of `nodedoc sandbox`: carries out each step of a plan (mkdir, mount,
// spawn, cgroup writes) and its undo. Every program runs from an argument array (./run.ts).

import {type ChildProcess, spawn} from 'node:child_process'
import {appendFileSync, chmodSync, chownSync, closeSync, constants, existsSync, lstatSync, mkdirSync, openSync, renameSync, rmdirSync, symlinkSync, writeFileSync} from 'node:fs'
import {mkdir, rm, rmdir, symlink, writeFile} from 'node:fs/promises'
import {basename, dirname, join, resolve} from 'node:path'
import type {Socket} from 'node:net'
import type {Writable} from 'node:stream'
import {fileURLToPath} from 'node:url'
import {removeCgroupTree} from './cgroups.js'
import type {ApplyResult, Op, ProcessMark, SandboxOps, Undo} from './ops.js'
import {childOf, execedAs, killMark, killMarkedProcesses, markOf} from './processes.js'
import {buildRootfs, ensureBusyboxLayer, indexLayer} from './rootfs.js'
import {CriLineWriter, SHIM_SCRIPT} from './sandbox-shim.js'
import {RUN_TIMEOUT_MS, errno, firstLine, run, runProgram, runUndo} from './run.js'

/**
 * How to start the shim: node with dist/src/write/sandbox-shim.js when that file is there (a
 * checkout after tsc, fastest), else the CLI itself with the hidden `sandbox shim` command (the
 * esbuild bundle, the single executable).
 */
export function shimArgv(): string[] {
  const candidates: string[] = []
  try {
    const here = fileURLToPath(import.meta.url)
    candidates.push(here.replace(/sandbox-ops\.(ts|js)$/, 'sandbox-shim.js').replace(/\/src\/write\/sandbox-shim\.js$/, (m) => (here.includes('/dist/') ? m : '/dist/src/write/sandbox-shim.js')))
  } catch {}
  if (process.argv[1]) candidates.push(resolve(dirname(process.argv[1]), '../dist/src/write/sandbox-shim.js'))
  const isNode = /^node(js)?(\d+)?(\.exe)?$/.test(basename(process.execPath))
  const script = candidates.find((c) => c.includes('/dist/') && c.endsWith('/sandbox-shim.js') && existsSync(c))
  if (isNode && script) return [process.execPath, script]
  return isNode ? [process.execPath, process.argv[1], 'sandbox', 'shim'] : [process.execPath, 'sandbox', 'shim']
}

/**
 * The files a step makes, by where they are. A sysctl, whose write can wait for the rtnl lock,
 * goes to libuv's pool of four threads; every other file here (the state dir on tmpfs, mount
 * points, the cgroup folders, limits and cgroup.procs under /sys/fs/cgroup) is made in place:
 * each cgroupfs mkdir or write returns in under 1 ms on the kernels measured (docs/perf.md), while
 * a pool completion waits for the main thread's next turn, behind every spawn of the other lanes.
 */
interface FileCalls {
  mkdir(path: string, options?: {recursive: boolean}): Promise<unknown>
  writeFile(path: string, content: string, options?: {flag: string}): Promise<void>
  symlink(target: string, path: string): Promise<void>
  rmdir(path: string): Promise<void>
}
const inPlace: FileCalls = {
  mkdir: async (path, options) => mkdirSync(path, options),
  writeFile: async (path, content, options) => writeFileSync(path, content, options),
  symlink: async (target, path) => symlinkSync(target, path),
  rmdir: async (path) => rmdirSync(path),
}
/** How long a container that failed before it was held is given to finish saying why. */
const STDERR_WAIT_MS = 1000
/** A mount point file: created if absent, never truncated, no link followed in its last name. */
const TOUCH_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY
const inPool: FileCalls = {mkdir, writeFile, symlink, rmdir}
function filesAt(path: string): FileCalls {
  return /^\/proc\/sys\//.test(path) ? inPool : inPlace
}

/**
 * A container started and held: its gate (this process holds the only writing end), its shim,
 * and this process's ends of the pipes its output and the shim's status line come through, with
 * what came through them before the log writer took them (a program of the chain that failed).
 */
interface Held {
  gate: Writable
  shim: ChildProcess
  pipes: Socket[]
  said: {stdout: string[]; stderr: string[]}
  configPath: string
  logPath: string
}

/**
 * Gives folder `to` the mode and owner of `from` when `from` is a folder (not a link): a mount
 * point made in the overlay's upper layer stands over the image's folder, and shows its own
 * mode and owner, as a copied-up folder would show the image's (a /tmp keeps its 1777).
 */
function copyFolderLook(from: string, to: string): void {
  let look
  try {
    look = lstatSync(from)
  } catch {
    return
  }
  if (!look.isDirectory()) return
  chownSync(to, look.uid, look.gid)
  chmodSync(to, look.mode & 0o7777)
}

/** The live machine. */
export class LiveSandboxOps implements SandboxOps {
  private readonly held = new Map<string, Held>()

  constructor(private readonly stateFile: string, private readonly sandboxUid: string) {}

  /**
   * Starts the log writer of a container about to be released, on the pipes of its output and
   * its shim's status line: node takes tens of milliseconds (more on a busy machine) to start,
   * and with the gate opened after this, nothing waits for it (the output waits in the pipes).
   */
  private startLogWriter(held: Held): ChildProcess {
    const [program, ...args] = shimArgv()
    const child = spawn(program, [...args, '-'], {detached: true, stdio: ['pipe', 'ignore', 'ignore', ...held.pipes], cwd: '/', env: {PATH: process.env.PATH ?? '', NODEDOC_SANDBOX_UID: this.sandboxUid}})
    child.on('error', () => undefined)
    child.stdin!.on('error', () => undefined)
    child.stdin!.end(held.configPath + '\n')
    for (const pipe of held.pipes) pipe.destroy()
    child.unref()
    return child
  }

  /** In place (see filesAt): every step with an undo waits for it. */
  async saveState(state: object): Promise<void> {
    if (!existsSync(dirname(this.stateFile))) return
    const tmp = `${this.stateFile}.tmp`
    writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n')
    renameSync(tmp, this.stateFile)
  }

  async apply(op: Op, processes: Record<string, ProcessMark>): Promise<ApplyResult | void> {
    const pid = (ref: string): number => {
      const key = ref.replace(/^\{|\}$/g, '')
      const mark = processes[key]
      if (!mark) throw new Error(`no process for ${ref}`)
      return mark.pid
    }
    switch (op.kind) {
      case 'mkdir': {
        const files = filesAt(op.path)
        if (op.exclusive) {
          await files.mkdir(dirname(op.path), {recursive: true})
          try {
            await files.mkdir(op.path)
          } catch (error) {
            if (errno(error) === 'EEXIST') throw new Error(`${op.path} already exists`, {cause: error})
            throw error
          }
        } else await files.mkdir(op.path, {recursive: true})
        if (op.like) copyFolderLook(op.like, op.path)
        return
      }
      case 'rmdir':
        await filesAt(op.path).rmdir(op.path)
        return
      case 'write': {
        const files = filesAt(op.path)
        if (op.content === '') {
          // a mount point file (touch) may sit in a dir the image lacks
          await files.mkdir(dirname(op.path), {recursive: true})
          // and is only made, never emptied: a file there keeps its bytes, a link put there
          // after preflight is not followed, a FIFO does not hold the create
          try {
            closeSync(openSync(op.path, TOUCH_FLAGS, 0o666))
          } catch (error) {
            throw new Error(`write ${op.path}: ${errno(error) ?? (error as Error).message}`, {cause: error})
          }
          return
        }
        await files.writeFile(op.path, op.content).catch((error) => {
          throw new Error(`write ${op.path}: ${errno(error) ?? (error as Error).message}`)
        })
        return
      }
      case 'symlink':
        await filesAt(op.path).symlink(op.target, op.path)
        return
      case 'lease':
        await inPlace.mkdir(dirname(op.path), {recursive: true})
        await inPlace.writeFile(op.path, op.content, {flag: 'wx'}).catch((error) => {
          if (errno(error) === 'EEXIST') throw new Error(`IP lease ${op.path} is taken`)
          throw error
        })
        return
      case 'rootfs':
        if (op.source.kind === 'layer') {
          await ensureBusyboxLayer(op.source.dir, op.source.binary, op.source.digest)
          if (op.source.statKey) await indexLayer(op.source.dir, op.source.statKey)
        } else await buildRootfs(op.dir, op.source)
        return
      case 'run':
        await run(op.argv, op.stdin)
        return
      case 'spawnPause':
        return this.spawnPause(op)
      case 'startContainer':
        return this.startContainer(op)
      case 'joinCgroup': {
        const target = pid(op.ref)
        // in place (see filesAt); each is tried, and the first refusal in order is the error
        await Promise.all(op.dirs.map((dir) => inPlace.writeFile(join(dir, 'cgroup.procs'), String(target))))
        return
      }
      case 'oomScoreAdj':
        try {
          await writeFile(`/proc/${pid(op.ref)}/oom_score_adj`, String(op.value))
        } catch (error) {
          const code = errno(error)
          if (code === 'EACCES' || code === 'EPERM') throw new Error(`oom_score_adj ${op.value} refused (${code}): lowering it needs CAP_SYS_RESOURCE, which this process lacks; the kernel default stays`, {cause: error})
          throw error
        }
        return
      case 'release': {
        const held = this.held.get(op.container)
        if (!held) throw new Error(`no held process for container ${op.container}`)
        this.held.delete(op.container)
        // what the chain's programs said before it was held goes first, in the same form
        for (const stream of ['stdout', 'stderr'] as const) {
          if (!held.said[stream].length) continue
          const lines = new CriLineWriter(stream, (line) => appendFileSync(held.logPath, line))
          for (const chunk of held.said[stream]) lines.push(chunk)
          lines.end()
        }
        const writer = this.startLogWriter(held)
        const logger = await markOf(writer.pid!)
        await new Promise<void>((resolve, reject) => {
          held.gate.once('error', (error) => reject(new Error(`container ${op.container}: the gate: ${error.message}`)))
          // the shim keeps its copy of the reading end: this end is closed, not left to wait for it
          held.gate.end('\n', () => {
            held.gate.destroy()
            resolve()
          })
        })
        held.shim.unref()
        return {processes: {[`logger:${op.container}`]: logger}}
      }
    }
  }

  /**
   * Starts the pause (through its shell, which first runs what op.before names: the pod's shm
   * mount) and waits until it has executed the pause. Its stderr comes here until then: a
   * failure says what failed in that program's own words, in one line.
   */
  private async spawnPause(op: Extract<Op, {kind: 'spawnPause'}>): Promise<ApplyResult> {
    const child = spawn(op.argv[0], op.argv.slice(1), {detached: true, stdio: ['ignore', 'ignore', 'pipe'], cwd: '/', env: {PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', NODEDOC_SANDBOX_UID: this.sandboxUid}})
    const stderr = child.stderr!
    const said: string[] = []
    stderr.setEncoding('utf8').on('data', (chunk: string) => said.push(chunk))
    stderr.on('error', () => undefined)
    const failed = new Promise<never>((_, reject) => child.once('error', (e) => reject(new Error(`${op.argv[0]}: ${e.message}`))))
    failed.catch(() => undefined)
    child.unref()
    try {
      if (child.pid === undefined) await failed
      const parent = child.pid!
      const pause = op.gated === 'child' ? await childOf(parent) : parent
      // the steps after it enter its namespaces: not before unshare has made them
      await execedAs(pause, op.ready)
      const mark = await markOf(pause)
      if (mark.startTime < 0) throw new Error(`the pause process exited at once (${op.argv.join(' ')})`)
      return {processes: {pause: mark, 'pause-parent': await markOf(parent)}}
    } catch (error) {
      // what unshare or the shell's program said is all read once stderr ends (every writer gone)
      if (!stderr.destroyed) await new Promise((resolve) => (stderr.once('close', resolve), setTimeout(resolve, STDERR_WAIT_MS).unref()))
      const why = firstLine(said.join(''))
      if (op.before && why.startsWith(`${op.before.program}: `)) throw new Error(`${op.before.what} failed: ${why}`, {cause: error})
      throw why ? new Error(`the pause did not start: ${why}`, {cause: error}) : error
    } finally {
      stderr.destroy()
    }
  }

  /**
   * Starts the container's chain under its shim (a shell, the parent that outlives this process),
   * its stdout and stderr into a log writer, and waits until the chain has reached the gate.
   */
  private async startContainer(op: Extract<Op, {kind: 'startContainer'}>): Promise<ApplyResult> {
    const configPath = join(op.stateDir, 'shim.json')
    // in place, as the state (see filesAt): this step is on the critical path
    writeFileSync(configPath, JSON.stringify({logPath: op.logPath, exitPath: join(op.stateDir, 'exit.json')}, null, 2))
    // the runtime creates the log file when the container starts, output or not
    writeFileSync(op.logPath, '', {flag: 'a'})
    const shim = spawn(op.shim, ['-c', SHIM_SCRIPT, 'shim', ...op.chain], {detached: true, stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'], cwd: '/', env: {...op.env, NODEDOC_SANDBOX_UID: this.sandboxUid}})
    const [, stdout, stderr, gate, status] = shim.stdio as unknown as Socket[]
    const said = {stdout: [] as string[], stderr: [] as string[]}
    stdout.setEncoding('utf8').on('data', (chunk: string) => said.stdout.push(chunk))
    stderr.setEncoding('utf8').on('data', (chunk: string) => said.stderr.push(chunk))
    for (const stream of [stdout, stderr, gate, status]) stream.on('error', () => undefined)
    const failed = new Promise<never>((_, reject) => shim.once('error', (e) => reject(new Error(`container ${op.container}: ${op.shim}: ${e.message}`))))
    failed.catch(() => undefined)
    if (shim.pid === undefined) await failed
    const held: Held = {gate, shim, pipes: [stdout, stderr, status], said, configPath, logPath: op.logPath}
    this.held.set(op.container, held)
    const shimMark = await markOf(shim.pid!)
    try {
      // the shim forks the chain's first program; with a fork of its own (unshare/nsenter into a
      // PID namespace) the held process is that program's child
      const first = await childOf(shim.pid!)
      const pid = op.gated === 'child' ? await childOf(first) : first
      // the steps after it enter its mount namespace: not before unshare has made it private
      await execedAs(pid, op.ready)
      const mark = await markOf(pid)
      if (mark.startTime < 0) throw new Error(`process ${pid} exited early`)
      return {processes: {[`ctr:${op.container}`]: mark, [`shim:${op.container}`]: shimMark}}
    } catch (error) {
      // nothing runs: the gate closes unopened, and the shim goes
      this.held.delete(op.container)
      gate.destroy()
      shim.kill('SIGKILL')
      // what the chain's programs said is all read once its stderr ends (every writer gone)
      if (!stderr.destroyed) await new Promise((resolve) => (stderr.once('close', resolve), setTimeout(resolve, STDERR_WAIT_MS).unref()))
      const why = firstLine(said.stderr.join('')) || (error as Error).message
      for (const pipe of held.pipes) pipe.destroy()
      throw new Error(`container ${op.container}: the container process exited before it could be held (${op.chain.slice(0, 3).join(' ')} ...: ${why})`, {cause: error})
    }
  }

  async undo(undo: Undo, processes: Record<string, ProcessMark>): Promise<string[]> {
    try {
      switch (undo.kind) {
        case 'removeTree':
          await rm(undo.path, {recursive: true, force: true})
          return []
        case 'rmdirIfEmpty':
        case 'cgroupRmdirIfEmpty':
          await inPlace.rmdir(undo.path).catch((error) => {
            if (!['ENOENT', 'ENOTEMPTY', 'EEXIST', 'EBUSY'].includes(errno(error) ?? '')) throw error
          })
          return []
        case 'unlink':
          await rm(undo.path, {force: true})
          return []
        case 'run':
          return await runUndo(undo.argv, /Cannot find device|not found|No such|does not exist/i)
        case 'umount': {
          const result = await runProgram(['umount', undo.path], {timeoutMs: RUN_TIMEOUT_MS})
          if (result.failed && !/not mounted|no mount point|No such file/i.test(result.stderr)) {
            const lazy = await runProgram(['umount', '--lazy', undo.path])
            if (lazy.failed) return [`umount ${undo.path}: ${firstLine(result.stderr)}`]
          }
          return []
        }
        case 'kill': {
          const key = undo.ref.replace(/^\{|\}$/g, '')
          const related = key.startsWith('ctr:') ? [key, `shim:${key.slice(4)}`, `logger:${key.slice(4)}`] : key === 'pause' ? ['pause', 'pause-parent'] : [key]
          for (const k of related) await killMark(processes[k])
          return []
        }
        case 'cgroupTree':
          return await removeCgroupTree(undo.path)
      }
    } catch (error) {
      return [`undo ${undo.kind} ${'path' in undo ? undo.path : ''}: ${(error as Error).message}`]
    }
  }

  /** Last resort for a half-made sandbox: any process still carrying this sandbox's mark. */
  async sweep(): Promise<void> {
    // a gate still closed closes unopened: the process held at it ends without running anything
    for (const held of this.held.values()) for (const stream of [held.gate, ...held.pipes]) stream.destroy()
    this.held.clear()
    await killMarkedProcesses(this.sandboxUid)
  }
}
