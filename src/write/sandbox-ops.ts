// The live machine side of `nodedoc sandbox`: carries out each step of a plan (mkdir, mount,
// spawn, cgroup writes) and its undo. Every program runs from an argument array (./run.ts).

import {type ChildProcess, spawn} from 'node:child_process'
import {existsSync, mkdirSync, renameSync, rmdirSync, symlinkSync, writeFileSync} from 'node:fs'
import {mkdir, rm, rmdir, symlink, writeFile} from 'node:fs/promises'
import {basename, dirname, join, resolve} from 'node:path'
import type {Socket} from 'node:net'
import type {Writable} from 'node:stream'
import {fileURLToPath} from 'node:url'
import {removeCgroupTree} from './cgroups.js'
import type {ApplyResult, Op, ProcessMark, SandboxOps, Undo} from './ops.js'
import {childOf, execedAs, killMark, killMarkedProcesses, markOf, reaped} from './processes.js'
import {buildRootfs, ensureBusyboxLayer, indexLayer} from './rootfs.js'
import {SHIM_SCRIPT} from './sandbox-shim.js'
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
 * The files a step makes, by where they are. A kernel file whose change can wait on a lock (a v1
 * cgroup mkdir or cgroup.procs write waits for an RCU grace period, a sysctl for the rtnl lock)
 * goes to libuv's pool of four threads; every other file here (the state dir on tmpfs, mount
 * points through /proc/<pid>/root) is made in place, in microseconds: queued in the pool behind
 * blocked kernel writes, it held up the steps on the critical path by tens of milliseconds.
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
const inPool: FileCalls = {mkdir, writeFile, symlink, rmdir}
function filesAt(path: string): FileCalls {
  return /^\/(sys|proc\/sys)\//.test(path) ? inPool : inPlace
}

/** A log writer (src/write/sandbox-shim.ts) and this process's ends of the pipes it reads. */
interface LogWriter {
  child: ChildProcess
  /** what the container's stdout, stderr and its parent's status line go into */
  stdout: Socket
  stderr: Socket
  status: Socket
}

/** A container started and held: its gate (this process holds the only writing end) and its processes. */
interface Held {
  gate: Writable
  shim: ChildProcess
  writer: LogWriter
}

/**
 * Log writers started ahead of their containers, waiting for a config on stdin: node takes tens
 * of milliseconds to start (more on a busy machine), which then overlap the create. Nothing
 * waits for one: the container's output waits in its pipes. They carry the sandbox mark (a sweep
 * kills them) and end by themselves when the CLI goes away without handing them a container
 * (their stdin closes). Their stdout and stderr are /dev/null: they have nothing to tell the CLI.
 */
export class StandbyShims {
  private readonly ready: LogWriter[] = []
  constructor(private readonly sandboxUid: string) {}

  /** Starts log writers until `count` wait. */
  fill(count: number): void {
    while (this.ready.length < count) this.ready.push(this.start())
  }

  take(): LogWriter {
    return this.ready.shift() ?? this.start()
  }

  private start(): LogWriter {
    const [program, ...args] = shimArgv()
    const child = spawn(program, [...args, '-'], {detached: true, stdio: ['pipe', 'ignore', 'ignore', 'pipe', 'pipe', 'pipe'], env: {PATH: process.env.PATH ?? '', NODEDOC_SANDBOX_UID: this.sandboxUid}})
    child.on('error', () => undefined)
    child.stdin!.on('error', () => undefined)
    const [stdout, stderr, status] = [3, 4, 5].map((fd) => child.stdio[fd] as Socket)
    return {child, stdout, stderr, status}
  }

  /** Kills the log writers no container took, and returns once they are gone. */
  async dispose(): Promise<void> {
    // gone, not just told to go: a SIGKILLed node process takes a while to exit on a busy machine,
    // and until it has, /proc still shows it with its mark
    await Promise.all(this.ready.splice(0).map((writer) => {
      writer.child.kill('SIGKILL')
      for (const stream of [writer.child.stdin!, writer.stdout, writer.stderr, writer.status]) stream.destroy()
      return reaped(writer.child)
    }))
  }
}

/** The live machine. */
export class LiveSandboxOps implements SandboxOps {
  private readonly held = new Map<string, Held>()
  private readonly standby: StandbyShims

  /**
   * standbyShims: how many log writers should wait once the state dir exists (those the create
   * started earlier, `standby`, count).
   */
  constructor(private readonly stateFile: string, private readonly sandboxUid: string, private readonly standbyShims = 0, standby?: StandbyShims) {
    this.standby = standby ?? new StandbyShims(sandboxUid)
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
          if (op.path === dirname(this.stateFile)) this.standby.fill(this.standbyShims)
        } else await files.mkdir(op.path, {recursive: true})
        return
      }
      case 'rmdir':
        await filesAt(op.path).rmdir(op.path)
        return
      case 'write': {
        const files = filesAt(op.path)
        // a mount point file (touch) may sit in a dir the image lacks
        if (op.content === '') await files.mkdir(dirname(op.path), {recursive: true})
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
      case 'spawnPause': {
        const child = spawn(op.argv[0], op.argv.slice(1), {detached: true, stdio: 'ignore', env: {PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', NODEDOC_SANDBOX_UID: this.sandboxUid}})
        const failed = new Promise<never>((_, reject) => child.once('error', (e) => reject(new Error(`${op.argv[0]}: ${e.message}`))))
        child.unref()
        if (child.pid === undefined) await failed
        const parent = child.pid!
        const pause = op.gated === 'child' ? await childOf(parent) : parent
        // the steps after it enter its namespaces: not before unshare has made them
        await execedAs(pause, op.ready)
        const mark = await markOf(pause)
        if (mark.startTime < 0) throw new Error(`the pause process exited at once (${op.argv.join(' ')})`)
        return {processes: {pause: mark, 'pause-parent': await markOf(parent)}}
      }
      case 'startContainer':
        return this.startContainer(op)
      case 'joinCgroup': {
        const target = pid(op.ref)
        // all at once: a v1 migration waits for an RCU grace period, which concurrent writers share
        await Promise.all(op.dirs.map((dir) => writeFile(join(dir, 'cgroup.procs'), String(target))))
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
        await new Promise<void>((resolve, reject) => {
          held.gate.once('error', (error) => reject(new Error(`container ${op.container}: the gate: ${error.message}`)))
          // the shim keeps its copy of the reading end: this end is closed, not left to wait for it
          held.gate.end('\n', () => {
            held.gate.destroy()
            resolve()
          })
        })
        held.shim.unref()
        held.writer.child.unref()
        return
      }
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
    const writer = this.standby.take()
    const shim = spawn(op.shim, ['-c', SHIM_SCRIPT, 'shim', ...op.chain], {detached: true, stdio: ['ignore', writer.stdout, writer.stderr, 'pipe', writer.status], env: {...op.env, NODEDOC_SANDBOX_UID: this.sandboxUid}})
    // the pipes are the writer's and the container's now: their end comes when the container's
    for (const stream of [writer.stdout, writer.stderr, writer.status]) stream.destroy()
    writer.child.stdin!.end(configPath + '\n')
    const gate = shim.stdio[3] as Writable
    gate.on('error', () => undefined)
    const failed = new Promise<never>((_, reject) => shim.once('error', (e) => reject(new Error(`container ${op.container}: ${op.shim}: ${e.message}`))))
    failed.catch(() => undefined)
    if (shim.pid === undefined) await failed
    this.held.set(op.container, {gate, shim, writer})
    const processes = {[`shim:${op.container}`]: await markOf(shim.pid!), [`logger:${op.container}`]: await markOf(writer.child.pid!)}
    try {
      // the shim forks the chain's first program; with a fork of its own (unshare/nsenter into a
      // PID namespace) the held process is that program's child
      const first = await childOf(shim.pid!)
      const held = op.gated === 'child' ? await childOf(first) : first
      // the steps after it enter its mount namespace: not before unshare has made it private
      await execedAs(held, op.ready)
      const mark = await markOf(held)
      if (mark.startTime < 0) throw new Error(`process ${held} exited early`)
      return {processes: {[`ctr:${op.container}`]: mark, ...processes}}
    } catch (error) {
      // nothing runs: the gate closes unopened, and the shim and its writer go
      this.held.delete(op.container)
      gate.destroy()
      shim.kill('SIGKILL')
      writer.child.kill('SIGKILL')
      throw new Error(`container ${op.container}: the container process exited before it could be held (${op.chain.slice(0, 3).join(' ')} ...: ${(error as Error).message})`, {cause: error})
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
          await rmdir(undo.path).catch((error) => {
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
    for (const held of this.held.values()) held.gate.destroy()
    this.held.clear()
    await this.standby.dispose()
    await killMarkedProcesses(this.sandboxUid)
  }
}
