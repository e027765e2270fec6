// Reading inside another process's root through /proc/<pid>/root, on the real kernel: a
// chrooted busybox stands in for a container whose files are hostile. Its links point at host
// paths; an attacker inside it swaps a directory for a link to "/" while nodedoc reads.
import {randomBytes} from 'node:crypto'
import {chmod, copyFile, mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile} from 'node:fs/promises'
import {execFileSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {type ResultPromise, execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {InRootError} from '../../../src/host/in-root.js'
import type {RootReader} from '../../../src/host/root-reader.js'
import {LiveHost} from '../../../src/host/live.js'

const tag = randomBytes(4).toString('hex')
const HOST_SECRET = `/tmp/nodedoc-inroot-secret-${tag}`
let root: string
let prisoner: ResultPromise
let attacker: ResultPromise | undefined
let reader: RootReader
const live = new LiveHost('/')

async function waitForPid(child: ResultPromise): Promise<number> {
  // the chroot'ed child is the process; wait until /proc shows it inside the root
  for (let i = 0; i < 100; i++) {
    const target = await readlinkRoot(child.pid!)
    if (target === root) return child.pid!
    await new Promise((done) => setTimeout(done, 20))
  }
  throw new Error('chrooted process did not start')
}

// the test's own look at the kernel's link (the Host treats /proc/<pid>/root as a door, not a link)
async function readlinkRoot(pid: number): Promise<string | undefined> {
  return readlink(`/proc/${pid}/root`).catch(() => undefined)
}

beforeAll(async () => {
  root = await mkdtemp('/tmp/nodedoc-inroot-')
  await copyFile('/bin/busybox', `${root}/busybox`)
  await chmod(`${root}/busybox`, 0o755)
  for (const dir of ['etc', 'tmp', 'd/tmp', 'data/sub']) await mkdir(`${root}/${dir}`, {recursive: true})
  await writeFile(`${root}/etc/shadow`, `container-shadow-${tag}\n`)
  await writeFile(`${root}/d/tmp/nodedoc-inroot-secret-${tag}`, 'container copy\n')
  await writeFile(`${root}/tmp/nodedoc-inroot-secret-${tag}`, 'container root copy\n')
  await writeFile(`${root}/data/sub/file`, 'x'.repeat(5000))
  await symlink('/etc/shadow', `${root}/link-abs`)
  await symlink('../../../../../../etc/shadow', `${root}/data/link-rel`)
  await symlink('/etc', `${root}/etc-link`)
  await symlink('..', `${root}/data/up`)
  await symlink('loop2', `${root}/loop1`)
  await symlink('loop1', `${root}/loop2`)
  execFileSync('mkfifo', [`${root}/fifo`])
  await writeFile(HOST_SECRET, `host secret ${tag}\n`)
  prisoner = execa('chroot', [root, '/busybox', 'sleep', '600'], {reject: false})
  reader = live.inRoot(`/proc/${await waitForPid(prisoner)}/root`)
})

afterAll(async () => {
  attacker?.kill('SIGKILL')
  prisoner?.kill('SIGKILL')
  await Promise.all([attacker, prisoner])
  // rm does not follow the links to "/" the attacker made
  if (root) await rm(root, {recursive: true, force: true})
  await rm(HOST_SECRET, {force: true})
})

describe('a root read through /proc/<pid>/root', () => {
  it('reads /etc/shadow of the root, not the host', async () => {
    const file = await reader.read('/etc/shadow', 1024)
    expect(file?.data.toString()).toBe(`container-shadow-${tag}\n`)
    expect(file).toMatchObject({path: '/etc/shadow', truncated: false})
    expect(file?.data.toString()).not.toBe(readFileSync('/etc/shadow', 'utf8'))
  })

  it('follows an absolute link against the root', async () => {
    expect((await reader.read('/link-abs', 1024))?.data.toString()).toBe(`container-shadow-${tag}\n`)
    expect((await reader.read('/link-abs', 1024))?.path).toBe('/etc/shadow')
  })

  it('stops a relative link\'s .. at the root', async () => {
    expect((await reader.read('/data/link-rel', 1024))?.data.toString()).toBe(`container-shadow-${tag}\n`)
    expect((await reader.stat('/data/up/data/up/etc/shadow'))?.path).toBe('/etc/shadow')
    expect((await reader.stat('/../../../../etc/shadow'))?.path).toBe('/etc/shadow')
  })

  it('shows a link as a link with lstat, and lists through a link to a directory', async () => {
    expect(await reader.lstat('/link-abs')).toMatchObject({type: 'link', linkTarget: '/etc/shadow', path: '/link-abs'})
    const listing = await reader.list('/etc-link', 100)
    expect(listing?.path).toBe('/etc')
    expect(listing?.entries.map((e) => e.name)).toEqual(['shadow'])
    expect(listing?.entries[0]).toMatchObject({type: 'file', size: `container-shadow-${tag}\n`.length, mode: 0o644, uid: 0})
  })

  it('caps a read and says so', async () => {
    const file = await reader.read('/data/sub/file', 100)
    expect(file).toMatchObject({size: 5000, truncated: true})
    expect(file?.data.length).toBe(100)
  })

  it('caps a listing and says so', async () => {
    const listing = await reader.list('/', 2)
    expect(listing?.entries.length).toBe(2)
    expect(listing?.truncated).toBe(true)
  })

  it('refuses a link loop, a fifo and a directory as a file, without blocking', async () => {
    await expect(reader.stat('/loop1')).rejects.toMatchObject({code: 'ELOOP'})
    await expect(reader.read('/fifo', 10)).rejects.toMatchObject({code: 'EFTYPE', reason: 'not-regular'})
    await expect(reader.read('/etc', 10)).rejects.toMatchObject({code: 'EISDIR'})
    await expect(reader.list('/etc/shadow', 10)).rejects.toMatchObject({code: 'ENOTDIR'})
  })

  it('answers undefined for a name that is not there', async () => {
    expect(await reader.stat('/nope/at/all')).toBeUndefined()
    expect(await reader.read('/etc/nope', 10)).toBeUndefined()
  })

  it('never reads the host while the root swaps a directory for a link to "/"', async () => {
    const name = `nodedoc-inroot-secret-${tag}`
    attacker = execa('chroot', [root, '/busybox', 'sh', '-c', 'while :; do /busybox mv /d /d.real; /busybox ln -s / /d; /busybox rm /d; /busybox mv /d.real /d; done'], {reject: false})
    const pid = prisoner.pid!
    // the attack is real: a plain read through /proc/<pid>/root reaches the host's file
    let naiveHostHits = 0
    const deadline = Date.now() + 10_000
    while (naiveHostHits === 0 && Date.now() < deadline) {
      try {
        if (readFileSync(`/proc/${pid}/root/d/tmp/${name}`, 'utf8').startsWith('host secret')) naiveHostHits++
      } catch {
        // caught mid-swap
      }
    }
    expect(naiveHostHits).toBeGreaterThan(0)

    const seen = new Map<string, number>()
    for (let i = 0; i < 3000; i++) {
      let outcome: string
      try {
        outcome = (await reader.read(`/d/tmp/${name}`, 100))?.data.toString() ?? 'absent'
      } catch (error) {
        if (!(error instanceof InRootError)) throw error
        outcome = error.code
      }
      seen.set(outcome, (seen.get(outcome) ?? 0) + 1)
    }
    attacker.kill('SIGKILL')
    await attacker
    expect([...seen.keys()].filter((o) => o.startsWith('host secret'))).toEqual([])
    // it did read the container's files meanwhile, both the directory's and (through the link) the root's
    expect(seen.get('container copy\n') ?? 0).toBeGreaterThan(0)
    expect([...seen.keys()].every((o) => ['container copy\n', 'container root copy\n', 'absent', 'ENOTDIR', 'EFTYPE'].includes(o))).toBe(true)
    expect(await readFile(HOST_SECRET, 'utf8')).toBe(`host secret ${tag}\n`)
  })

  it('leaves no descriptor open', async () => {
    const before = live.readDir('/proc/self/fd')
    const count = (await before)!.length
    for (let i = 0; i < 50; i++) {
      await reader.read('/link-abs', 10)
      await reader.list('/etc-link', 10)
      await reader.stat('/nope/x').catch(() => undefined)
      await reader.stat('/loop1').catch(() => undefined)
    }
    expect((await live.readDir('/proc/self/fd'))!.length).toBe(count)
  })
})
