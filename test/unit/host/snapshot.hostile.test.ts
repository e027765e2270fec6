// Snapshots someone else hands over, built by hand to attack the reader: links out of the
// snapshot (absolute and relative), hard links to files of this machine, FIFOs and devices,
// ".." in archive names, members under files and links, a snapshot whose fs/ is "/", bad
// schema files, and compression bombs made at test time. Each is read through the real reader
// (and the CLI), and must give its answer, a warning or one clear line: never a file of this
// machine, a hang, a stack trace or memory without bound.
import {execFileSync} from 'node:child_process'
import {cpSync, linkSync, mkdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync} from 'node:fs'
import {join, resolve} from 'node:path'
import {gzipSync} from 'node:zlib'
import {execa} from 'execa'
import * as tar from 'tar'
import {beforeAll, describe, expect, it} from 'vitest'
import {SnapshotHost} from '../../../src/host/snapshot.js'
import {SNAPSHOT_LIMITS} from '../../../src/host/snapshot-layout.js'
import {tempFolder} from '../../helpers/temp-folder.js'
import {itemsOf} from '../../helpers/volatile.js'

const ROOT = resolve(__dirname, '../../..')
const EXAMPLE = join(ROOT, 'examples/containerd-node')
const IS_ROOT = process.getuid?.() === 0
const work = tempFolder('nodedoc-hostile-', () => writeFileSync(secret, `${SECRET}\n`))

// a file of this machine, outside every snapshot: it must never show
const SECRET = 'SECRET-OF-THIS-MACHINE'
const secret = join(work, 'secret')

function cli(args: string[], timeout = 60_000) {
  return execa(process.execPath, [join(ROOT, 'bin/run.js'), ...args], {reject: false, timeout, env: {NO_COLOR: '1', NODE_ENV: 'production'}})
}

/** A copy of the example snapshot to plant things in. */
function copyExample(name: string): string {
  const dir = join(work, name)
  cpSync(EXAMPLE, dir, {recursive: true, verbatimSymlinks: true})
  return dir
}

function replace(path: string, plant: () => void): void {
  unlinkSync(path)
  plant()
}

describe('a hostile snapshot folder', () => {
  const snap = join(work, 'folder')
  const proc = (pid: number, file: string) => join(snap, 'fs/proc', String(pid), file)
  beforeAll(() => {
    copyExample('folder')
    // the processes of the example node: each gets one attack
    replace(proc(5863, 'cmdline'), () => symlinkSync(secret, proc(5863, 'cmdline'))) // absolute link out: re-rooted inside, so absent
    replace(proc(5953, 'cmdline'), () => symlinkSync('../../../../../../../../..' + secret, proc(5953, 'cmdline'))) // relative link out
    replace(proc(6042, 'cmdline'), () => linkSync(secret, proc(6042, 'cmdline'))) // a hard link to a file of this machine
    replace(proc(5922, 'status'), () => execFileSync('mkfifo', [proc(5922, 'status')])) // a FIFO: reading it would hang
    if (IS_ROOT) replace(proc(6012, 'stat'), () => execFileSync('mknod', [proc(6012, 'stat'), 'c', '1', '5'])) // /dev/zero: reading it never ends
    if (IS_ROOT) replace(proc(6012, 'status'), () => execFileSync('mknod', [proc(6012, 'status'), 'c', '1', '5'])) // and where ps reads first
    // an in-snapshot absolute link is the captured node's "/": it resolves to fs/
    mkdirSync(join(snap, 'fs/etc/nodedoc'), {recursive: true})
    writeFileSync(join(snap, 'fs/etc/nodedoc/cmd'), 'inside-the-snapshot\0--flag\0')
    replace(proc(6130, 'cmdline'), () => symlinkSync('/etc/nodedoc/cmd', proc(6130, 'cmdline')))
  })

  it('reads what is inside, refuses what leads out, never hangs', async () => {
    const started = performance.now()
    const host = await SnapshotHost.open(snap)
    expect(await host.readFile('/proc/5863/cmdline')).toBeUndefined()
    expect(await host.readFile('/proc/5953/cmdline')).toBeUndefined()
    expect(await host.readFile('/proc/6042/cmdline')).toBeUndefined()
    expect(await host.readFile('/proc/5922/status')).toBeUndefined()
    if (IS_ROOT) expect(await host.readFile('/proc/6012/stat')).toBeUndefined()
    expect(await host.readFile('/proc/6130/cmdline')).toBe('inside-the-snapshot\0--flag\0')
    expect(host.warnings.list().join('\n')).toMatch(/refused: the path leads out of the root.*\/proc\/5953\/cmdline/)
    expect(host.warnings.list().join('\n')).toMatch(/refused: a hard link.*\/proc\/6042\/cmdline/)
    expect(host.warnings.list().join('\n')).toMatch(/refused: not a regular file/)
    expect(performance.now() - started).toBeLessThan(5_000)
  })

  it('reads a process folder at once as it reads each file (host.readFiles)', async () => {
    const one = await SnapshotHost.open(snap)
    const many = await SnapshotHost.open(snap)
    const names = ['cgroup', 'status', 'cmdline', 'stat', 'environ']
    const pids = [5863, 5953, 6042, 5922, 6012, 6130, 999999]
    const each = []
    for (const pid of pids) each.push(await Promise.all(names.map((name) => one.readFile(`/proc/${pid}/${name}`))))
    expect(await many.readFiles(pids.map((pid) => `/proc/${pid}`), names)).toEqual(each)
    expect(many.warnings.list()).toEqual(one.warnings.list())
    expect(many.warnings.list().join('\n')).toMatch(/refused: a hard link.*\/proc\/6042\/cmdline/)
  })

  it('ps and pod answer from it: no file of this machine, no hang, exit 0', async () => {
    for (const args of [['ps', '-A'], ['ps', '-A', '-o', 'json'], ['pod', 'core-k8s-greedy'], ['doctor']]) {
      const r = await cli([...args, '--from', snap], 30_000)
      expect(r.timedOut, args.join(' ')).toBe(false)
      expect(`${r.stdout}${r.stderr}`, args.join(' ')).not.toContain(SECRET)
      expect(r.stderr, args.join(' ')).not.toMatch(/\n\s+at /)
      if (args[0] !== 'doctor') expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(0)
    }
    const table = String((await cli(['ps', '-A', '-o', 'wide', '--from', snap])).stdout)
    expect(table).toMatch(/^6130 .*inside-the-snapshot --flag$/m)
  })

  it('pod folder names with escapes and newlines are shown escaped, in tables and in errors', async () => {
    const dir = copyExample('names')
    const uid = '0badc0de-0000-4000-8000-000000000001'
    const name = 'ev\x1b]0;owned\x07il\nFORGED'
    mkdirSync(join(dir, 'fs/var/log/pods', `default_${name}_${uid}`, 'app'), {recursive: true})
    writeFileSync(join(dir, 'fs/var/log/pods', `default_${name}_${uid}`, 'app/0.log'), '2024-05-01T10:00:00Z stdout F \x1b]52;c;ZXZpbA==\x07hi\n')
    const missing = await cli(['pod', 'nope', '--from', dir])
    expect(missing.exitCode).toBe(1)
    expect(String(missing.stderr)).toContain('ev\\x1b]0;owned\\x07il\\nFORGED')
    for (const r of [missing, await cli(['pod', uid, '--from', dir, '-o', 'wide']), await cli(['logs', uid, '--escape', '--from', dir])]) {
      expect(`${r.stdout}${r.stderr}`).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/)
      expect(`${r.stdout}${r.stderr}`).not.toMatch(/^FORGED/m)
    }
    const raw = await cli(['logs', uid, '--from', dir])
    expect(String(raw.stdout)).toBe('\x1b]52;c;ZXZpbA==\x07hi') // piped: the container's bytes, as kubectl prints them (execa drops the last newline)
  })

  it('a snapshot whose fs/ is a link to / reads nothing of this machine', async () => {
    const dir = join(work, 'fs-is-slash')
    mkdirSync(dir)
    writeFileSync(join(dir, 'meta.json'), '{"format": 1}')
    symlinkSync('/', join(dir, 'fs'))
    const host = await SnapshotHost.open(dir)
    expect(await host.readFile('/etc/hostname')).toBeUndefined()
    expect(await host.readDir('/proc')).toBeUndefined()
    const r = await cli(['ps', '-A', '-o', 'json', '--from', dir])
    expect(itemsOf(JSON.parse(String(r.stdout)))).toEqual([])
  })

  it.each([
    ['meta.json', '{"format": 99}', /meta\.json: format: nodedoc reads format 1 \(got 99\)$/],
    ['meta.json', '{"format": 1, "hostname": 7}', /meta\.json: hostname: expected string, got 7$/],
    ['meta.json', 'not json', /meta\.json: not JSON \(/],
    ['stat.json', '{"/proc/1/stat": {"kind": "file"}}', /stat\.json: \/proc\/1\/stat\.size: missing$/],
    ['stat.json', '{"/x": {"kind": "file", "size": 1, "mtimeMs": 0, "ino": 0},', /stat\.json: not JSON \(/],
  ])('a bad %s is named in one line: %s', async (file, text, message) => {
    const dir = copyExample(`bad-${file}-${text.length}`)
    writeFileSync(join(dir, file), text)
    const r = await cli(['ps', '-A', '--from', dir])
    expect(r.exitCode).toBe(3) // the node's facts could not be read
    expect(String(r.stderr).trim().split('\n')).toHaveLength(1)
    expect(String(r.stderr).trim()).toMatch(/^error: /)
    expect(String(r.stderr).trim()).toMatch(message)
  })

  it('a FIFO as meta.json is refused at once', async () => {
    const dir = copyExample('fifo-meta')
    replace(join(dir, 'meta.json'), () => execFileSync('mkfifo', [join(dir, 'meta.json')]))
    const r = await cli(['ps', '-A', '--from', dir], 10_000)
    expect(r.timedOut).toBe(false)
    expect(String(r.stderr).trim()).toMatch(/^error: .*meta\.json: not a regular file \(fifo\)$/)
  })

  it('a CRI answer without ips: pod answers from host files, the field is named', async () => {
    const dir = copyExample('no-ips')
    const file = join(dir, 'answers/cri-view.json')
    const view = JSON.parse(readFileSync(file, 'utf8'))
    delete view.sandboxes[0].ips
    writeFileSync(file, JSON.stringify(view))
    const r = await cli(['pod', 'core-k8s', '--from', dir])
    expect(r.exitCode, String(r.stderr)).toBe(0)
    expect(String(r.stderr)).toMatch(/warning: answers\/cri-view\.json: sandboxes\.0\.ips: missing; using host files only/)
  })
})

// ---------------------------------------------------------------------------------------------

interface Member {
  path: string
  type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'CharacterDevice' | 'FIFO'
  data?: Buffer | string
  linkpath?: string
  /** declared size, when it is not the data's (a bomb's member is written separately) */
  size?: number
}

/** A tar stream block by block, names as given (tar(1) and node-tar would clean "..", so the test writes headers itself). */
function tarBlocks(members: Member[], end = true): Buffer {
  const out: Buffer[] = []
  for (const m of members) {
    const data = typeof m.data === 'string' ? Buffer.from(m.data) : (m.data ?? Buffer.alloc(0))
    const header = new tar.Header({path: m.path, type: m.type ?? 'File', size: m.size ?? data.length, mode: m.type === 'Directory' ? 0o755 : 0o644, mtime: new Date(0), linkpath: m.linkpath, uid: 0, gid: 0, devmaj: m.type === 'CharacterDevice' ? 1 : 0, devmin: m.type === 'CharacterDevice' ? 5 : 0})
    header.encode()
    out.push(header.block!)
    if (m.size === undefined && data.length) out.push(data, Buffer.alloc((512 - (data.length % 512)) % 512))
  }
  if (end) out.push(Buffer.alloc(1024))
  return Buffer.concat(out)
}

const META = {path: 'meta.json', data: '{"format": 1, "hostname": "hostile"}'}
const CMDLINE = {path: 'fs/proc/1/cmdline', data: 'init\0'}

describe('a hostile snapshot against the batch reads of ps (a process folder at a time)', () => {
  const snap = join(work, 'batch')
  const proc = (pid: number, file = '') => join(snap, 'fs/proc', String(pid), file)
  // a folder outside the snapshot that looks like a process of this machine
  const outside = join(work, 'outside-proc')
  beforeAll(() => {
    copyExample('batch')
    mkdirSync(outside)
    for (const name of ['cgroup', 'status', 'cmdline', 'stat']) writeFileSync(join(outside, name), `${SECRET}\n`)
    // processes of pods (each has a cgroup file, so ps shows it)
    rmSync(proc(5832), {recursive: true})
    symlinkSync(outside, proc(5832)) // the process folder a link by absolute path: re-rooted inside, so absent
    rmSync(proc(6201), {recursive: true})
    symlinkSync('../../../outside-proc', proc(6201)) // a relative link climbing out: refused
    replace(proc(6161, 'status'), () => symlinkSync('../../../../secret', proc(6161, 'status'))) // status a link out
    replace(proc(6098, 'cmdline'), () => execFileSync('mkfifo', [proc(6098, 'cmdline')])) // a FIFO where ps reads
    replace(proc(6234, 'status'), () => writeFileSync(proc(6234, 'status'), '')) // over the cap: sparse, no disk used
    execFileSync('truncate', ['-s', String(SNAPSHOT_LIMITS.fileBytes + 1), proc(6234, 'status')])
  })

  it('each folder read at once as each file alone, and nothing of this machine', async () => {
    const started = performance.now()
    const one = await SnapshotHost.open(snap)
    const many = await SnapshotHost.open(snap)
    const names = ['cgroup', 'status', 'cmdline', 'stat']
    const pids = [5832, 6201, 6161, 6098, 6234, 6130]
    const each = []
    for (const pid of pids) each.push(await Promise.all(names.map((name) => one.readFile(`/proc/${pid}/${name}`))))
    const got = await many.readFiles(pids.map((pid) => `/proc/${pid}`), names)
    expect(got).toEqual(each)
    expect(many.warnings.list()).toEqual(one.warnings.list())
    expect(JSON.stringify(got)).not.toContain(SECRET)
    expect(got[0]).toEqual([undefined, undefined, undefined, undefined])
    expect(got[1]).toEqual([undefined, undefined, undefined, undefined])
    expect(got[2][1]).toBeUndefined()
    expect(got[3][2]).toBeUndefined()
    expect(got[4][1]).toBeUndefined()
    expect(got[4][3]).toMatch(/^6234 \(sleep\) S /)
    expect(got[5][2]).toBe('sleep\x0010000\x00')
    const warned = many.warnings.list().join('\n')
    // the links out (the folder 6201 and 6161's status) are one warning, naming the first
    expect(warned).toMatch(/refused: the path leads out of the root .*\(5 paths, e\.g\. \/proc\/6201\/cgroup\)/)
    expect(warned).toMatch(/refused: not a regular file: \/proc\/6098\/cmdline/)
    expect(warned).toMatch(/refused: larger than the read cap: \/proc\/6234\/status/)
    expect(performance.now() - started).toBeLessThan(5_000)
  })

  it('ps -A answers from the rest: the processes without files dropped, the others from stat', async () => {
    const r = await cli(['ps', '-A', '-o', 'json', '--from', snap], 30_000)
    expect(r.timedOut).toBe(false)
    expect(r.exitCode, String(r.stderr)).toBe(0)
    expect(`${r.stdout}${r.stderr}`).not.toContain(SECRET)
    expect(r.stderr).not.toMatch(/\n\s+at /)
    const byPid = new Map(itemsOf(JSON.parse(String(r.stdout))).map((p: {pid: number}) => [p.pid, p]))
    expect(byPid.has(5832)).toBe(false)
    expect(byPid.has(6201)).toBe(false)
    // status refused: comm, state and ppid from stat instead; cmdline still read
    expect(byPid.get(6161)).toMatchObject({ppid: 6078, state: 'S', command: 'sleep 10000', pod: {name: 'core-k8s-duo'}})
    expect(byPid.get(6234)).toMatchObject({ppid: 6182, state: 'S', command: 'sleep 10000'})
    // cmdline a FIFO: refused unread, shown as a process without argv
    expect(byPid.get(6098)).toMatchObject({command: '[pause]', pod: {name: 'core-k8s-duo'}})
  })
})

describe('a hostile snapshot archive', () => {
  it('skips .., hard links, devices, FIFOs and members under files or links, with warnings; reads the rest', async () => {
    const file = join(work, 'hostile.tar.gz')
    writeFileSync(file, gzipSync(tarBlocks([
      META,
      CMDLINE,
      {path: '../../escaped', data: SECRET},
      {path: 'fs/proc/../../../escaped-too', data: SECRET},
      {path: '/fs/proc/9/cmdline', data: 'absolute-name\0'}, // a leading / is dropped, as tar does
      {path: 'fs/proc/2/cmdline', type: 'SymbolicLink', linkpath: secret}, // absolute: re-rooted
      {path: 'fs/proc/3/cmdline', type: 'SymbolicLink', linkpath: '../../../../../../..' + secret}, // relative, out
      {path: 'fs/proc/4/cmdline', type: 'Link', linkpath: 'meta.json'},
      {path: 'fs/proc/5/cmdline', type: 'CharacterDevice'},
      {path: 'fs/proc/6/cmdline', type: 'FIFO'},
      {path: 'fs/proc/1/cmdline/child', data: 'under a file'},
      {path: 'fs/proc/3/cmdline/child', data: 'under a link'},
      {path: 'fs/proc/7/cmdline', type: 'SymbolicLink', linkpath: '/proc/1/cmdline'}, // absolute, inside
    ])))
    const host = await SnapshotHost.open(file)
    const warnings = host.warnings.list().join('\n')
    expect(warnings).toMatch(/archive members skipped: "\.\." in the name \(2 paths, e\.g\. \.\.\/\.\.\/escaped\)/)
    expect(warnings).toMatch(/archive members skipped: a hard link: fs\/proc\/4\/cmdline/)
    expect(warnings).toMatch(/archive members skipped: a device: fs\/proc\/5\/cmdline/)
    expect(warnings).toMatch(/archive members skipped: a FIFO: fs\/proc\/6\/cmdline/)
    expect(warnings).toMatch(/archive members skipped: inside something that is not a folder \(2 paths/)
    expect(await host.readFile('/proc/1/cmdline')).toBe('init\0')
    expect(await host.readFile('/proc/9/cmdline')).toBe('absolute-name\0')
    expect(await host.readFile('/proc/2/cmdline')).toBeUndefined()
    expect(await host.readFile('/proc/3/cmdline')).toBeUndefined()
    expect(await host.readFile('/proc/7/cmdline')).toBe('init\0')
    expect(host.warnings.list().join('\n')).toMatch(/refused: the path leads out of the root \("\.\." or a link\): \/proc\/3\/cmdline/)
    const r = await cli(['ps', '-A', '-o', 'json', '--from', file])
    expect(r.exitCode, String(r.stderr)).toBe(0)
    expect(`${r.stdout}${r.stderr}`).not.toContain(SECRET)
    expect(String(r.stderr)).not.toMatch(/\n\s+at /)
  })

  it('an archive that is not one is one line', async () => {
    const file = join(work, 'junk.tar.gz')
    writeFileSync(file, gzipSync(Buffer.from('not a tar stream at all, just text '.repeat(100))))
    const r = await cli(['ps', '-A', '--from', file])
    expect(r.exitCode).toBe(3)
    expect(String(r.stderr).trim().split('\n')).toHaveLength(1)
    expect(String(r.stderr)).toMatch(/^error: .*junk\.tar\.gz: (not a readable snapshot archive|no meta\.json)/)
  })

  // Bombs are made here, from a gzip member of 64 MiB of zeros repeated (a valid gzip stream
  // may hold many members): an 11 MB file can say 3 GiB.
  const ZEROS = 64 * 1024 * 1024
  const zeros = gzipSync(Buffer.alloc(ZEROS), {level: 9})

  function bomb(declared: number, path: string): Buffer {
    const parts = [gzipSync(tarBlocks([META, CMDLINE, {path, size: declared}], false))]
    for (let done = 0; done < declared; done += ZEROS) parts.push(zeros)
    parts.push(gzipSync(Buffer.alloc(1024)))
    return Buffer.concat(parts)
  }

  function rssGrowth<T>(work: () => Promise<T>): Promise<{value: T | Error; mb: number; ms: number}> {
    globalThis.gc?.()
    const before = process.memoryUsage().rss
    let peak = before
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5)
    const started = performance.now()
    return work().then((v) => v as T | Error, (e: Error) => e).then((value) => {
      clearInterval(timer)
      peak = Math.max(peak, process.memoryUsage().rss)
      return {value, mb: (peak - before) / 2 ** 20, ms: performance.now() - started}
    })
  }

  it('a 3 GiB member in a few MB is refused before it is expanded: memory and time bounded', async () => {
    const file = join(work, 'bomb-3g.tar.gz')
    const data = bomb(3 * 1024 ** 3, 'fs/var/log/pods/x/app/0.log')
    writeFileSync(file, data)
    expect(data.length).toBeLessThan(12 * 1024 * 1024)
    const {value, mb, ms} = await rssGrowth(() => SnapshotHost.open(file))
    expect(value).toBeInstanceOf(Error)
    expect((value as Error).message).toBe(`${file}: not a readable snapshot archive (expands to more than ${SNAPSHOT_LIMITS.archiveBytes / 2 ** 20} MiB)`)
    expect(mb).toBeLessThan(128)
    expect(ms).toBeLessThan(5_000)
    const r = await cli(['ps', '--from', file])
    expect(String(r.stderr).trim()).toMatch(/^error: .*expands to more than 1024 MiB\)$/)
  })

  it('a member of zeros that expands a thousandfold is refused as it expands: memory and time bounded', async () => {
    const file = join(work, 'bomb-ratio.tar.gz')
    writeFileSync(file, bomb(ZEROS * 3, 'fs/var/log/pods/x/app/0.log'))
    const {value, mb, ms} = await rssGrowth(() => SnapshotHost.open(file))
    expect(value).toBeInstanceOf(Error)
    expect((value as Error).message).toMatch(/not a readable snapshot archive \(max decompression ratio exceeded/)
    expect(mb).toBeLessThan(128)
    expect(ms).toBeLessThan(5_000)
  })

  it('a member over its cap is skipped unread (not held), the rest of the archive is read', async () => {
    // log lines compress like real ones (about 10x), so only the size cap can stop this one
    const line = (i: number) => `2024-05-01T10:00:00.${String(i % 1e9).padStart(9, '0')}Z stdout F request ${i} served in ${i % 997} ms\n`
    const size = SNAPSHOT_LIMITS.fileBytes + 1024 * 1024
    const lines: string[] = []
    for (let i = 0, n = 0; n < size; i++) {
      lines.push(line(i))
      n += lines.at(-1)!.length
    }
    const big = Buffer.from(lines.join('')).subarray(0, size)
    const file = join(work, 'big-member.tar.gz')
    writeFileSync(file, gzipSync(tarBlocks([META, CMDLINE, {path: 'fs/var/log/pods/x/app/0.log', data: big}, {path: 'fs/proc/1/stat', data: '1 (init) S 0'}]), {level: 1}))
    const {value, mb, ms} = await rssGrowth(() => SnapshotHost.open(file))
    expect(value).toBeInstanceOf(SnapshotHost)
    const host = value as SnapshotHost
    expect(host.warnings.list()).toContain(`archive members skipped: larger than ${SNAPSHOT_LIMITS.fileBytes / 2 ** 20} MiB: fs/var/log/pods/x/app/0.log`)
    expect(await host.readFile('/var/log/pods/x/app/0.log')).toBeUndefined()
    expect(await host.readFile('/proc/1/cmdline')).toBe('init\0')
    expect(await host.readFile('/proc/1/stat')).toBe('1 (init) S 0')
    expect(mb).toBeLessThan(128)
    expect(ms).toBeLessThan(10_000)
  })
})
