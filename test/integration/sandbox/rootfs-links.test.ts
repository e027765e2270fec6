// A --rootfs DIR is the user's image: a link where the create makes a mount point is refused
// before anything is made, and the node's file or folder it points at stays as it was.
import {spawn} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {createSandbox} from '../../../src/sandbox/service.js'
import {CLI_ENV, IS_ROOT, ROOT, RunIds, cli, ensureBuilt, hostPicture, manifestFile, podYaml, suffix, testCidr} from './helpers.js'

const run = IS_ROOT ? describe : describe.skip
const id = suffix()
const ns = `nd-rootfs-${id}`
const cidr = testCidr()
const prefix = `links-${id}`
const ids = new RunIds()
const made: string[] = []

/** An image with the usual top folders; the test plants its link in it. */
function image(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nd-rootfs-'))
  made.push(dir)
  for (const d of ['proc', 'sys', 'dev', 'etc', 'bin']) mkdirSync(join(dir, d))
  return dir
}

async function create(name: string, dir: string, containers: string, volumes = '') {
  const r = await cli(['sandbox', 'create', '-f', manifestFile(podYaml(name, ns, containers, volumes)), '--name', name, '--rootfs', dir, '--pod-cidr', cidr, '--uid', ids.uid()])
  // should the refusal ever miss, what was made goes again
  if (r.exitCode === 0) await cli(['sandbox', 'rm', name])
  return r
}

const sleeper = `    - name: app\n      image: busybox\n      command: ['sleep', '10000']\n`

run('sandbox create --rootfs DIR with links at its mount points', () => {
  let before: Record<string, string>
  let outside: string
  beforeAll(() => {
    ensureBuilt()
    outside = mkdtempSync(join(tmpdir(), 'nd-outside-'))
    made.push(outside)
    before = hostPicture(ns, [prefix], ids)
  })
  afterAll(() => {
    for (const d of made.splice(0)) rmSync(d, {recursive: true, force: true})
  })

  it('refuses etc/hosts linked to a file of the node, which keeps its bytes', async () => {
    const canary = join(outside, 'shadow')
    writeFileSync(canary, 'root:secret:1:0:99999:7:::\n')
    const dir = image()
    symlinkSync(canary, join(dir, 'etc/hosts'))
    const name = `${prefix}-hosts`
    const r = await create(name, dir, sleeper)
    expect(r.exitCode).toBe(1)
    expect(String(r.stderr)).toBe(`error: --rootfs ${dir}: etc/hosts is a symbolic link (to ${canary}); mount points through links are not supported`)
    expect(readFileSync(canary, 'utf8')).toBe('root:secret:1:0:99999:7:::\n')
    expect(existsSync(`/run/nodedoc/sandboxes/${name}`)).toBe(false)
    expect(hostPicture(ns, [prefix], ids)).toEqual(before)
  })

  it('refuses a volume mount path through a link to a folder of the node, which stays empty', async () => {
    const target = join(outside, 'data')
    mkdirSync(target)
    const dir = image()
    symlinkSync(target, join(dir, 'data'))
    const name = `${prefix}-vol`
    const containers = `    - name: app\n      image: busybox\n      command: ['sleep', '10000']\n      volumeMounts: [{name: scratch, mountPath: /data/scratch}]\n`
    const r = await create(name, dir, containers, '  volumes:\n    - {name: scratch, emptyDir: {}}\n')
    expect(r.exitCode).toBe(1)
    expect(String(r.stderr)).toBe(`error: --rootfs ${dir}: data is a symbolic link (to ${target}); mount points through links are not supported`)
    expect(readdirSync(target)).toEqual([])
    expect(existsSync(`/run/nodedoc/sandboxes/${name}`)).toBe(false)
    expect(hostPicture(ns, [prefix], ids)).toEqual(before)
  })

  it('refuses a relative link inside the image as well', async () => {
    const dir = image()
    mkdirSync(join(dir, 'run'))
    writeFileSync(join(dir, 'run/resolv.conf'), 'nameserver 10.0.0.10\n')
    symlinkSync('../run/resolv.conf', join(dir, 'etc/resolv.conf'))
    const r = await create(`${prefix}-rel`, dir, sleeper)
    expect(r.exitCode).toBe(1)
    expect(String(r.stderr)).toBe(`error: --rootfs ${dir}: etc/resolv.conf is a symbolic link (to ../run/resolv.conf); mount points through links are not supported`)
    expect(readFileSync(join(dir, 'run/resolv.conf'), 'utf8')).toBe('nameserver 10.0.0.10\n')
    expect(hostPicture(ns, [prefix], ids)).toEqual(before)
  })

  it('follows no link swapped in after the check: the mount points are made in the container\'s own layer', async () => {
    const hosts = join(outside, 'etc')
    const data = join(outside, 'swapped-data')
    mkdirSync(hosts)
    mkdirSync(data)
    const dir = image()
    mkdirSync(join(dir, 'data'))
    const name = `${prefix}-swap`
    const containers = `    - name: app\n      image: busybox\n      command: ['sleep', '10000']\n      volumeMounts: [{name: scratch, mountPath: /data/scratch}]\n`
    const yaml = podYaml(name, ns, containers, '  volumes:\n    - {name: scratch, emptyDir: {}}\n')
    const file = manifestFile(yaml)
    const uid = ids.uid()
    // the container's start is held (NODEDOC_SANDBOX_HOLD_STEP) while the image's owner swaps
    // two folders the preflight saw for links to folders of the node
    const {plan} = await createSandbox({manifestPath: file, name, isolation: 'full', rootfs: dir, podCidr: cidr, cgroupDriver: 'cgroupfs', podPidsLimit: null, podUid: uid, dryRun: true})
    const hold = plan.steps.findIndex((s) => s.id === 'ctr.app.start') + 1
    const child = spawn(process.execPath, ['bin/run.js', 'sandbox', 'create', '-f', file, '--name', name, '--rootfs', dir, '--pod-cidr', cidr, '--uid', uid, '--explain'], {cwd: ROOT, env: {...process.env, ...CLI_ENV, NODEDOC_SANDBOX_HOLD_STEP: String(hold)}, stdio: ['ignore', 'pipe', 'pipe']})
    let stderr = ''
    const held = new Promise<void>((resolve) => child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk
      if (stderr.includes('ctr.app.start')) resolve()
    }))
    const ended = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)))
    await Promise.race([held, ended])
    renameSync(join(dir, 'etc'), join(dir, 'etc.real'))
    symlinkSync(hosts, join(dir, 'etc'))
    rmSync(join(dir, 'data'), {recursive: true})
    symlinkSync(data, join(dir, 'data'))
    const code = await ended
    if (code === 0) await cli(['sandbox', 'rm', name])
    expect(code, stderr).toBe(0)
    // nothing was made on the node through either link
    expect(readdirSync(hosts)).toEqual([])
    expect(readdirSync(data)).toEqual([])
    expect(hostPicture(ns, [prefix], ids)).toEqual(before)
  }, 60_000)
})
