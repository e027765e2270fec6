import {afterEach, describe, expect, it} from 'vitest'
import {mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {LiveHost} from '../../../src/host/live.js'
import {imageMountPoints, planSandbox} from '../../../src/sandbox/plan.js'
import {config} from './plan-fixture.js'
import {checkImageMountPoints, requiredTools} from '../../../src/sandbox/service.js'

describe('requiredTools', () => {
  it('asks for what each isolation level runs', () => {
    expect(requiredTools('chroot', false)).toEqual(['sh', 'chroot'])
    expect(requiredTools('unshare', true)).toEqual(['sh', 'sleep', 'chroot', 'mount', 'umount', 'unshare', 'nsenter', 'cp', 'hostname', 'ip'])
    expect(requiredTools('full', false)).toEqual(['sh', 'sleep', 'chroot', 'mount', 'umount', 'unshare', 'nsenter', 'cp', 'hostname', 'setpriv', 'pivot_root', 'rmdir'])
  })
})

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, {recursive: true, force: true})
})

/** An image dir with the usual top folders, plus what the test adds. */
function image(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nd-image-'))
  dirs.push(dir)
  for (const d of ['proc', 'sys', 'dev', 'etc']) mkdirSync(join(dir, d))
  return dir
}

async function refusal(dir: string, cfg = config('two-containers.yaml', {fileVolumes: ['host-etc']})): Promise<string | undefined> {
  try {
    await checkImageMountPoints(new LiveHost('/'), dir, cfg)
    return undefined
  } catch (error) {
    return (error as Error).message
  }
}

describe('imageMountPoints', () => {
  it('names every path the container root steps make inside the image, parents first', () => {
    const cfg = config('two-containers.yaml', {fileVolumes: ['host-etc']})
    const points = imageMountPoints(cfg)
    expect(points).toEqual([
      {path: 'proc', kind: 'dir'}, {path: 'sys', kind: 'dir'}, {path: 'dev', kind: 'dir'}, {path: 'etc', kind: 'dir'},
      {path: 'scratch', kind: 'dir'}, {path: 'host', kind: 'dir'}, {path: '.oldroot', kind: 'dir'},
      {path: 'etc/hosts', kind: 'file'}, {path: 'etc/hostname', kind: 'file'}, {path: 'etc/resolv.conf', kind: 'file'},
      {path: 'host/debian_version', kind: 'file'},
    ])
    // every mount point made in a container's upper layer is one of them (dev/* are in the tmpfs /dev)
    const named = new Set(points.map((p) => p.path))
    const made = planSandbox(cfg).steps.flatMap((s) => 'path' in s.op && /\/containers\/[^/]+\/upper\/./.test(s.op.path) ? [s.op.path.replace(/^.*?\/upper\//, '')] : [])
    expect(made.length).toBeGreaterThan(10)
    for (const p of made) expect(named.has(p), p).toBe(true)
    expect(imageMountPoints({...cfg, isolation: 'chroot'})).toEqual([])
  })
})

describe('checkImageMountPoints', () => {
  it('takes an image whose mount points are there or not, of the right type', async () => {
    const dir = image()
    writeFileSync(join(dir, 'etc/hosts'), '127.0.0.1 localhost\n')
    mkdirSync(join(dir, 'scratch'))
    expect(await refusal(dir)).toBeUndefined()
  })

  it('refuses an absolute link at etc/hosts, naming it and its target', async () => {
    const dir = image()
    symlinkSync('/etc/shadow', join(dir, 'etc/hosts'))
    expect(await refusal(dir)).toBe(`--rootfs ${dir}: etc/hosts is a symbolic link (to /etc/shadow); mount points through links are not supported`)
  })

  it('refuses a relative link too, and a link among a volume mount path\'s parents', async () => {
    const dir = image()
    symlinkSync('../run/resolv.conf', join(dir, 'etc/resolv.conf'))
    expect(await refusal(dir)).toBe(`--rootfs ${dir}: etc/resolv.conf is a symbolic link (to ../run/resolv.conf); mount points through links are not supported`)
    rmSync(join(dir, 'etc/resolv.conf'))
    symlinkSync('/var', join(dir, 'host'))
    expect(await refusal(dir)).toBe(`--rootfs ${dir}: host is a symbolic link (to /var); mount points through links are not supported`)
  })

  it('refuses a top folder that is a link, and entries of the wrong type', async () => {
    let dir = image()
    rmSync(join(dir, 'dev'), {recursive: true})
    symlinkSync('/dev', join(dir, 'dev'))
    expect(await refusal(dir)).toBe(`--rootfs ${dir}: dev is a symbolic link (to /dev); mount points through links are not supported`)
    dir = image()
    mkdirSync(join(dir, 'etc/hostname'))
    expect(await refusal(dir)).toBe(`--rootfs ${dir}: etc/hostname is a directory; its mount point needs a regular file`)
    dir = image()
    rmSync(join(dir, 'proc'), {recursive: true})
    writeFileSync(join(dir, 'proc'), '')
    expect(await refusal(dir)).toBe(`--rootfs ${dir}: proc is a regular file; its mount point needs a directory`)
  })

  it('looks at nothing for --isolation chroot, which makes no mount points', async () => {
    const dir = image()
    symlinkSync('/etc/shadow', join(dir, 'etc/hosts'))
    expect(await refusal(dir, config('two-containers.yaml', {isolation: 'chroot'}))).toBeUndefined()
  })
})
