// The live machine side of `nodedoc sandbox`: carries out each step of a plan (mkdir, mount,
// spawn, cgroup writes) and its undo. Every program runs from an argument array (./run.ts).

import {type ChildProcess, spawn} from 'node:child_process'
import {existsSync, mkdirSync, renameSync, rmdirSync, symlinkSync, writeFileSync} from 'node:fs'
import {mkdir, open, readFile, rm, rmdir, symlink, writeFile} from 'node:fs/promises'
import {basename, dirname, join, resolve} from 'node:path'
import {createInterface} from 'node:readline'
import {fileURLToPath} from 'node:url'
import {removeCgroupTree} from './cgroups.js'
import type {ApplyResult, Op, ProcessMark, SandboxOps, Undo} from './ops.js'
import {childOf, execedAs, killMark, killMarkedProcesses, markOf, reaped} from './processes.js'
import {buildRootfs, ensureBusyboxLayer, indexLayer} from './rootfs.js'
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

interface ShimHandle {
  child: ChildProcess
  lines: AsyncIterator<string>
}

/**
 * Container shims started ahead of their containers, waiting for a config on stdin: node takes
 * tens of milliseconds to start (more on a busy machine), and the container's start waits for
 * it. They carry the sandbox mark (a sweep kills them) and end by themselves when the CLI goes
 * away without handing them a container (their stdin closes). Their stderr is /dev/null: they
 * start before the sandbox's state dir (where shim.log goes) exists; a shim says its errors on
 * stdout, where the CLI reads them.
 */
export class StandbyShims {
  private readonly ready: ShimHandle[] = []
  constructor(private readonly sandboxUid: string) {}

  /** Starts shims until `count` wait. */
  fill(count: number): void {
    const [program, ...args] = shimArgv()
    while (this.ready.length < count) {
      const child = spawn(program, [...args, '-'], {detached: true, stdio: ['pipe', 'pipe', 'ignore'], env: {PATH: process.env.PATH ?? '', NODEDOC_SANDBOX_UID: this.sandboxUid}})
      child.on('error', () => undefined)
      this.ready.push({child, lines: createInterface({input: child.stdout!})[Symbol.asyncIterator]()})
    }
  }

  take(): ShimHandle | undefined {
    return this.ready.shift()
  }

  /** Kills the shims no container took, and returns once they are gone. */
  async dispose(): Promise<void> {
    // gone, not just told to go: a SIGKILLed node process takes a while to exit on a busy machine,
    // and until it has, /proc still shows it with its mark
    await Promise.all(this.ready.splice(0).map((shim) => {
      shim.child.kill('SIGKILL')
      shim.child.stdin!.destroy()
      shim.child.stdout!.destroy()
      return reaped(shim.child)
    }))
  }
}

/** The live machine. */
export class LiveSandboxOps implements SandboxOps {
  private readonly shims = new Map<string, ShimHandle>()
  private readonly standby: StandbyShims

  /**
   * standbyShims: how many container shims should wait once the state dir exists (those the
   * create started earlier, `standby`, count).
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
        const shim = this.shims.get(op.container)
        if (!shim) throw new Error(`no shim for container ${op.container}`)
        shim.child.stdin!.write('go\n')
        const answer = await nextMessage(shim)
        if (!answer.released) throw new Error(`container ${op.container}: ${answer.error ?? 'the shim did not open the gate'}`)
        shim.child.stdin!.end()
        shim.child.stdout!.destroy()
        shim.child.unref()
        this.shims.delete(op.container)
        return
      }
    }
  }

  private async startContainer(op: Extract<Op, {kind: 'startContainer'}>): Promise<ApplyResult> {
    const configPath = join(op.stateDir, 'shim.json')
    // in place, as the state (see filesAt): this step is on the critical path
    writeFileSync(configPath, JSON.stringify({chain: op.chain, env: op.env, gated: op.gated, ready: op.ready, logPath: op.logPath, exitPath: join(op.stateDir, 'exit.json')}, null, 2))
    let handle: ShimHandle
    const ready = this.standby.take()
    if (ready) {
      // the same files as a shim started here (its stderr went nowhere)
      writeFileSync(join(op.stateDir, 'shim.log'), '', {flag: 'a'})
      ready.child.stdin!.write(configPath + '\n')
      handle = ready
    } else {
      const log = await open(join(op.stateDir, 'shim.log'), 'a')
      const [program, ...args] = shimArgv()
      const child = spawn(program, [...args, configPath], {detached: true, stdio: ['pipe', 'pipe', log.fd], env: {PATH: process.env.PATH ?? '', NODEDOC_SANDBOX_UID: this.sandboxUid}})
      await log.close()
      handle = {child, lines: createInterface({input: child.stdout!})[Symbol.asyncIterator]()}
    }
    const {child} = handle
    const shimMark = await markOf(child.pid!)
    const first = await nextMessage(handle)
    if (first.error || !first.held) {
      child.kill('SIGKILL')
      const said = firstLine((await readFile(join(op.stateDir, 'shim.log'), 'utf8').catch(() => '')).split('\n').find((l) => /Error|error:/.test(l)) ?? '')
      throw new Error(`container ${op.container}: ${first.error ?? 'the shim did not start it'}${said ? ` (${said.trim()})` : ''}`)
    }
    this.shims.set(op.container, handle)
    return {processes: {[`ctr:${op.container}`]: {pid: first.held, startTime: first.startTime ?? -1}, [`shim:${op.container}`]: shimMark}}
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
          const related = key.startsWith('ctr:') ? [key, `shim:${key.slice(4)}`] : key === 'pause' ? ['pause', 'pause-parent'] : [key]
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
    await this.standby.dispose()
    await killMarkedProcesses(this.sandboxUid)
  }
}

async function nextMessage(handle: ShimHandle): Promise<{pid?: number; held?: number; startTime?: number; released?: boolean; error?: string}> {
  const timeout = new Promise<{error: string}>((resolve) => setTimeout(() => resolve({error: 'the shim did not answer in 10 s'}), 10_000).unref())
  const next = handle.lines.next().then((r) => (r.done ? {error: 'the shim exited'} : JSON.parse(r.value)))
  return Promise.race([next, timeout])
}
