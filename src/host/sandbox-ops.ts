// The effectful side of `nodedoc sandbox`: the only code that creates, mounts, spawns and
// removes anything for a sandbox. Every program runs through execa with an argument array.

import {type ChildProcess, spawn} from 'node:child_process'
import {access, chmod, copyFile, link, mkdir, open, readFile, readdir, rename, rm, rmdir, stat, symlink, writeFile} from 'node:fs/promises'
import {constants, existsSync, symlinkSync} from 'node:fs'
import {basename, dirname, join, resolve} from 'node:path'
import {createInterface} from 'node:readline'
import {fileURLToPath} from 'node:url'
import * as execa from 'execa'
import type {ApplyResult, SandboxOps} from '../sandbox/executor.js'
import type {Op, RootfsSource, Undo} from '../sandbox/plan.js'
import {BUSYBOX_DIRS, MINIMAL_GROUP, MINIMAL_PASSWD, parseBusyboxList, parseLdd} from '../sandbox/rootfs.js'
import {type ProcessMark, type SandboxState, parseState} from '../sandbox/state.js'

const RUN_TIMEOUT_MS = 15_000

/** Why a step failed, in one line. */
function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? ''
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path)
    return true
  } catch {
    return false
  }
}

/** A program on PATH, or undefined. */
export async function which(program: string): Promise<string | undefined> {
  if (program.includes('/')) return (await exists(program)) ? program : undefined
  const dirs = (process.env.PATH || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':')
  for (const dir of [...dirs, '/usr/sbin', '/sbin']) {
    const candidate = join(dir, program)
    try {
      await access(candidate, constants.X_OK)
      return candidate
    } catch {}
  }
  return undefined
}

export async function readStartTime(pid: number): Promise<number | null> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8')
    return Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[19])
  } catch {
    return null
  }
}

/** True when the PID still names the process we started (not a recycled PID). */
export async function isAlive(mark: ProcessMark | undefined): Promise<boolean> {
  if (!mark) return false
  const start = await readStartTime(mark.pid)
  if (start === null || start !== mark.startTime) return false
  const status = await readFile(`/proc/${mark.pid}/status`, 'utf8').catch(() => '')
  return !/^State:\s+Z/m.test(status)
}

async function markOf(pid: number): Promise<ProcessMark> {
  return {pid, startTime: (await readStartTime(pid)) ?? -1}
}

async function childOf(pid: number, timeoutMs = 2000): Promise<number> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => undefined)
    if (text === undefined) throw new Error(`process ${pid} exited early`)
    if (text.trim()) return Number(text.trim().split(/\s+/)[0])
    await new Promise((r) => setTimeout(r, 2))
  }
  throw new Error(`process ${pid} did not fork in time`)
}

async function run(argv: string[], input?: string): Promise<void> {
  const io = input === undefined ? {stdin: 'ignore' as const} : {input}
  let result = await execa.execa(argv[0], argv.slice(1), {reject: false, timeout: RUN_TIMEOUT_MS, ...io, env: {LC_ALL: 'C'}})
  // two sandboxes putting the same gateway /32 on their veths at the same instant can race in
  // the kernel's local table (EEXIST); the batch only replaces, so running it again is safe
  for (let retry = 0; retry < 3 && result.failed && argv.includes('-batch') && /File exists/.test(String(result.stderr)); retry++) {
    await new Promise((r) => setTimeout(r, 20 + Math.random() * 30))
    result = await execa.execa(argv[0], argv.slice(1), {reject: false, timeout: RUN_TIMEOUT_MS, ...io, env: {LC_ALL: 'C'}})
  }
  if ((result as {code?: string}).code === 'ENOENT') throw new Error(`${argv[0]}: not installed`)
  if (result.failed) throw new Error(`${argv.join(' ')}: ${firstLine(String(result.stderr || result.stdout || result.shortMessage))}`)
}

function errno(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException)?.code
}

/**
 * How to start the shim: node with dist/src/host/sandbox-shim.js when that file is there (a
 * checkout after tsc, fastest), else the CLI itself with the hidden `sandbox shim` command (the
 * esbuild bundle, the single executable).
 */
export function shimArgv(): string[] {
  const candidates: string[] = []
  try {
    const here = fileURLToPath(import.meta.url)
    candidates.push(here.replace(/sandbox-ops\.(ts|js)$/, 'sandbox-shim.js').replace(/\/src\/host\/sandbox-shim\.js$/, (m) => (here.includes('/dist/') ? m : '/dist/src/host/sandbox-shim.js')))
  } catch {}
  if (process.argv[1]) candidates.push(resolve(dirname(process.argv[1]), '../dist/src/host/sandbox-shim.js'))
  const isNode = /^node(js)?(\d+)?(\.exe)?$/.test(basename(process.execPath))
  const script = candidates.find((c) => c.includes('/dist/') && c.endsWith('/sandbox-shim.js') && existsSync(c))
  if (isNode && script) return [process.execPath, script]
  return isNode ? [process.execPath, process.argv[1], 'sandbox', 'shim'] : [process.execPath, 'sandbox', 'shim']
}

interface ShimHandle {
  child: ChildProcess
  lines: AsyncIterator<string>
}

/** The live machine. */
export class LiveSandboxOps implements SandboxOps {
  private readonly shims = new Map<string, ShimHandle>()

  constructor(private readonly stateFile: string, private readonly sandboxUid: string) {}

  async saveState(state: SandboxState): Promise<void> {
    if (!(await exists(dirname(this.stateFile)))) return
    const tmp = `${this.stateFile}.tmp`
    await writeFile(tmp, JSON.stringify(state, null, 2) + '\n')
    await rename(tmp, this.stateFile)
  }

  async apply(op: Op, processes: Record<string, ProcessMark>): Promise<ApplyResult | void> {
    const pid = (ref: string): number => {
      const key = ref.replace(/^\{|\}$/g, '')
      const mark = processes[key]
      if (!mark) throw new Error(`no process for ${ref}`)
      return mark.pid
    }
    switch (op.kind) {
      case 'mkdir':
        if (op.exclusive) {
          await mkdir(dirname(op.path), {recursive: true})
          try {
            await mkdir(op.path)
          } catch (error) {
            if (errno(error) === 'EEXIST') throw new Error(`${op.path} already exists`)
            throw error
          }
        } else await mkdir(op.path, {recursive: true})
        return
      case 'write':
        // a mount point file (touch) may sit in a dir the image lacks
        if (op.content === '') await mkdir(dirname(op.path), {recursive: true})
        await writeFile(op.path, op.content).catch((error) => {
          throw new Error(`write ${op.path}: ${errno(error) ?? (error as Error).message}`)
        })
        return
      case 'symlink':
        await symlink(op.target, op.path)
        return
      case 'lease':
        await mkdir(dirname(op.path), {recursive: true})
        await writeFile(op.path, op.content, {flag: 'wx'}).catch((error) => {
          if (errno(error) === 'EEXIST') throw new Error(`IP lease ${op.path} is taken`)
          throw error
        })
        return
      case 'rootfs':
        await buildRootfs(op.dir, op.source)
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
        const mark = await markOf(pause)
        if (mark.startTime < 0) throw new Error(`the pause process exited at once (${op.argv.join(' ')})`)
        return {processes: {pause: mark, 'pause-parent': await markOf(parent)}}
      }
      case 'startContainer':
        return this.startContainer(op)
      case 'joinCgroup': {
        const target = pid(op.ref)
        for (const dir of op.dirs) await writeFile(join(dir, 'cgroup.procs'), String(target))
        return
      }
      case 'oomScoreAdj':
        try {
          await writeFile(`/proc/${pid(op.ref)}/oom_score_adj`, String(op.value))
        } catch (error) {
          const code = errno(error)
          if (code === 'EACCES' || code === 'EPERM') throw new Error(`oom_score_adj ${op.value} refused (${code}): lowering it needs CAP_SYS_RESOURCE, which this process lacks; the kernel default stays`)
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
    await writeFile(configPath, JSON.stringify({chain: op.chain, env: op.env, gated: op.gated, logPath: op.logPath, exitPath: join(op.stateDir, 'exit.json')}, null, 2))
    const log = await open(join(op.stateDir, 'shim.log'), 'a')
    const [program, ...args] = shimArgv()
    const child = spawn(program, [...args, configPath], {detached: true, stdio: ['pipe', 'pipe', log.fd], env: {PATH: process.env.PATH ?? '', NODEDOC_SANDBOX_UID: this.sandboxUid}})
    await log.close()
    const lines = createInterface({input: child.stdout!})[Symbol.asyncIterator]()
    const handle = {child, lines}
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
        case 'run': {
          const result = await execa.execa(undo.argv[0], undo.argv.slice(1), {reject: false, timeout: RUN_TIMEOUT_MS, stdin: 'ignore', env: {LC_ALL: 'C'}})
          if (result.failed && !/Cannot find device|not found|No such|does not exist/i.test(String(result.stderr))) return [`${undo.argv.join(' ')}: ${firstLine(String(result.stderr))}`]
          return []
        }
        case 'umount': {
          const result = await execa.execa('umount', [undo.path], {reject: false, timeout: RUN_TIMEOUT_MS, stdin: 'ignore', env: {LC_ALL: 'C'}})
          if (result.failed && !/not mounted|no mount point|No such file/i.test(String(result.stderr))) {
            const lazy = await execa.execa('umount', ['--lazy', undo.path], {reject: false, stdin: 'ignore'})
            if (lazy.failed) return [`umount ${undo.path}: ${firstLine(String(result.stderr))}`]
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
    await killMarkedProcesses(this.sandboxUid)
  }
}

async function nextMessage(handle: ShimHandle): Promise<{pid?: number; held?: number; startTime?: number; released?: boolean; error?: string}> {
  const timeout = new Promise<{error: string}>((resolve) => setTimeout(() => resolve({error: 'the shim did not answer in 10 s'}), 10_000).unref())
  const next = handle.lines.next().then((r) => (r.done ? {error: 'the shim exited'} : JSON.parse(r.value)))
  return Promise.race([next, timeout])
}

async function killMark(mark: ProcessMark | undefined): Promise<void> {
  if (!mark || !(await isAlive(mark))) return
  try {
    process.kill(mark.pid, 'SIGKILL')
  } catch {}
}

async function killMarkedProcesses(uid: string): Promise<void> {
  const needle = `NODEDOC_SANDBOX_UID=${uid}`
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^[0-9]+$/.test(entry)) continue
    const environ = await readFile(`/proc/${entry}/environ`, 'utf8').catch(() => '')
    if (environ.split('\0').includes(needle)) {
      try {
        process.kill(Number(entry), 'SIGKILL')
      } catch {}
    }
  }
}

/** Kills every process in a cgroup subtree, waits for it to empty, removes it deepest first. */
async function removeCgroupTree(root: string): Promise<string[]> {
  if (!(await exists(root))) return []
  const dirs: string[] = []
  const walk = async (dir: string) => {
    dirs.push(dir)
    for (const e of await readdir(dir, {withFileTypes: true}).catch(() => [])) if (e.isDirectory()) await walk(join(dir, e.name))
  }
  await walk(root)
  const deadline = Date.now() + 5000
  for (;;) {
    let alive = 0
    for (const dir of dirs) {
      const procs = await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '')
      for (const p of procs.split('\n').filter(Boolean)) {
        alive++
        try {
          process.kill(Number(p), 'SIGKILL')
        } catch {}
      }
    }
    if (!alive || Date.now() > deadline) break
    await new Promise((r) => setTimeout(r, 10))
  }
  const problems: string[] = []
  for (const dir of dirs.reverse()) {
    for (let attempt = 0; ; attempt++) {
      try {
        await rmdir(dir)
        break
      } catch (error) {
        if (errno(error) === 'ENOENT') break
        // a killed task leaves the cgroup a moment after it dies
        if (errno(error) === 'EBUSY' && attempt < 200) {
          await new Promise((r) => setTimeout(r, 10))
          continue
        }
        problems.push(`rmdir ${dir}: ${errno(error)}`)
        break
      }
    }
  }
  return problems
}

async function buildRootfs(dir: string, source: RootfsSource): Promise<void> {
  if (source.kind === 'dir') return
  await mkdir(dir, {recursive: true})
  for (const d of BUSYBOX_DIRS) await mkdir(join(dir, d), {recursive: true})
  await chmod(join(dir, 'tmp'), 0o1777)
  await writeFile(join(dir, 'etc/passwd'), MINIMAL_PASSWD)
  await writeFile(join(dir, 'etc/group'), MINIMAL_GROUP)
  if (source.kind === 'busybox') {
    // a hard link when the state dir shares the binary's filesystem (the layer is read-only
    // under overlay, so sharing the inode is safe); a copy otherwise
    await link(source.binary, join(dir, 'bin/busybox')).catch(async () => {
      await copyFile(source.binary, join(dir, 'bin/busybox'))
      await chmod(join(dir, 'bin/busybox'), 0o755)
    })
    // hundreds of tiny syscalls: synchronous is an order of magnitude faster than the thread pool
    for (const a of source.applets) {
      try {
        symlinkSync('busybox', join(dir, 'bin', a))
      } catch {}
    }
    return
  }
  for (const {source: from, dest} of source.files) {
    await mkdir(dirname(join(dir, dest)), {recursive: true})
    await copyFile(from, join(dir, dest))
    await chmod(join(dir, dest), (await stat(from)).mode & 0o7777)
  }
}

// ---- facts the command needs before planning ----

export interface CgroupFacts {
  version: 1 | 2
  mountRoot: string
  /** v1: which of the wanted controllers are mounted; v2: which are enabled at the root. */
  available: string[]
}

export const V1_CONTROLLERS = ['cpu', 'cpuacct', 'memory', 'pids']
export const V2_CONTROLLERS = ['cpu', 'memory', 'pids']

export async function cgroupFacts(mountRoot = '/sys/fs/cgroup'): Promise<CgroupFacts> {
  const unified = await readFile(join(mountRoot, 'cgroup.controllers'), 'utf8').catch(() => undefined)
  if (unified !== undefined) return {version: 2, mountRoot, available: unified.trim().split(/\s+/)}
  const available: string[] = []
  for (const c of V1_CONTROLLERS) if (await exists(join(mountRoot, c, 'cgroup.procs'))) available.push(c)
  return {version: 1, mountRoot, available}
}

export async function nodeMemoryBytes(): Promise<number> {
  const text = await readFile('/proc/meminfo', 'utf8')
  const kb = /^MemTotal:\s+(\d+)\s+kB/m.exec(text)
  return kb ? Number(kb[1]) * 1024 : 0
}

export async function busyboxApplets(binary: string): Promise<string[]> {
  const result = await execa.execa(binary, ['--list'], {reject: false, stdin: 'ignore'})
  return parseBusyboxList(String(result.stdout))
}

/** The host files a command needs: the binary and what `ldd` lists (as the seed copies bash/ls/ps). */
export async function hostRootfsFiles(programs: string[]): Promise<Array<{source: string; dest: string}>> {
  const files = new Map<string, string>()
  for (const program of programs) {
    const path = await which(program)
    if (!path) continue
    files.set(path, path)
    const ldd = await execa.execa('ldd', [path], {reject: false, stdin: 'ignore'})
    for (const lib of parseLdd(String(ldd.stdout))) files.set(lib, lib)
  }
  return [...files.keys()].map((source) => ({source, dest: source.replace(/^\//, '')}))
}

export async function takenLeases(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => [])
}

export async function hostLinks(): Promise<string[]> {
  return readdir('/sys/class/net').catch(() => [])
}

export async function pathExists(path: string): Promise<boolean> {
  return exists(path)
}

/** 'file', 'dir' or undefined (following links, as a bind mount does). */
export async function pathKind(path: string): Promise<'file' | 'dir' | undefined> {
  const s = await stat(path).catch(() => undefined)
  return s ? (s.isDirectory() ? 'dir' : 'file') : undefined
}

export async function readText(path: string): Promise<string | undefined> {
  return readFile(path, 'utf8').catch(() => undefined)
}

/** Every sandbox state under root: parsed, or the reason it is not readable. */
export async function listStates(root: string): Promise<Array<{name: string; dir: string; state?: SandboxState; problem?: string}>> {
  const names = await readdir(root).catch(() => [] as string[])
  const out: Array<{name: string; dir: string; state?: SandboxState; problem?: string}> = []
  for (const name of names.sort()) {
    const dir = join(root, name)
    const text = await readFile(join(dir, 'state.json'), 'utf8').catch(() => undefined)
    if (text === undefined) {
      out.push({name, dir, problem: 'no state.json (half-made)'})
      continue
    }
    try {
      out.push({name, dir, state: parseState(text, join(dir, 'state.json'))})
    } catch (error) {
      out.push({name, dir, problem: (error as Error).message})
    }
  }
  return out
}

export async function removeDir(path: string): Promise<void> {
  await rm(path, {recursive: true, force: true})
}

/** Folders shared by all sandboxes, removed in order once the last sandbox is gone from them. */
export async function removeIfEmpty(paths: string[]): Promise<void> {
  for (const path of paths) {
    try {
      await rmdir(path)
    } catch {
      // ENOTEMPTY: another sandbox still uses it; ENOENT: already gone
    }
  }
}

export async function containerExit(stateDirPath: string, container: string): Promise<{exitCode: number | null; signal: string | null; finishedAt: string} | undefined> {
  const text = await readFile(join(stateDirPath, 'containers', container, 'exit.json'), 'utf8').catch(() => undefined)
  return text ? JSON.parse(text) : undefined
}

/**
 * Runs argv inside a container (like `crictl exec`): held at a gate until it has joined the
 * container's cgroups, then exec'd with the container's namespaces, root and capabilities.
 * stdio is the caller's. Resolves to the exit code.
 */
export async function execGated(chain: string[], gated: 'self' | 'child', cgroupDirs: string[], env: Record<string, string>): Promise<number> {
  const child = spawn(chain[0], chain.slice(1), {stdio: ['inherit', 'inherit', 'inherit', 'pipe'], env})
  const done = new Promise<number>((resolve, reject) => {
    child.on('error', (e) => reject(new Error(`${chain[0]}: ${e.message}`)))
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 + (({SIGKILL: 9, SIGTERM: 15, SIGINT: 2} as Record<string, number>)[signal] ?? 1) : 1)))
  })
  const gate = child.stdio[3] as NodeJS.WritableStream
  gate.on('error', () => undefined)
  if (child.pid === undefined) return done
  try {
    const held = gated === 'child' ? await childOf(child.pid) : child.pid
    for (const dir of cgroupDirs) await writeFile(join(dir, 'cgroup.procs'), String(held))
    gate.write('\n')
    gate.end()
  } catch (error) {
    child.kill('SIGKILL')
    await done.catch(() => undefined)
    throw error
  }
  return done
}
