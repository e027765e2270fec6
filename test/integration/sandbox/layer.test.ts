// The shared image layer: one per busybox binary, used by every sandbox as its overlay
// lowerdir, never written through a container, and gone with the last sandbox (on rm, on a
// failed create, on rm --all). Runs under a state root of its own, so the "last sandbox" here
// is this file's, whatever other suites run at the same time; the IP leases stay the machine's
// (/run/nodedoc/ipam), and with the last sandbox of all go their folders and /run/nodedoc.
import {createHash} from 'node:crypto'
import {existsSync, readFileSync, readdirSync, readlinkSync, statSync} from 'node:fs'
import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {SandboxError, createSandbox, removeSandbox} from '../../../src/sandbox/service.js'
import {MINIMAL_PASSWD} from '../../../src/write/rootfs.js'
import {IS_ROOT, RunIds, ensureBuilt, leftEmpty, machineFolders, suiteManifestFile, podYaml, suffix, testCidr} from './helpers.js'

const run = IS_ROOT && existsSync('/bin/busybox') ? describe : describe.skip
const id = suffix()
const root = `/run/nodedoc-layer-${id}`
const stateRoot = `${root}/sandboxes`
const cidr = testCidr()
const ids = new RunIds()
const manifest = suiteManifestFile(podYaml('layered', `nd-layer-${id}`, "    - {name: app, image: busybox, command: ['sleep', '10000']}\n"))
const options = (name: string, extra: object = {}) => ({manifestPath: manifest, name, isolation: 'full' as const, podCidr: cidr, cgroupDriver: 'systemd' as const, podPidsLimit: null, podUid: ids.uid(), stateRoot, ...extra})
const digest = () => createHash('sha256').update(readFileSync('/bin/busybox')).digest('hex')
const made: string[] = []

async function create(name: string, extra: object = {}) {
  made.push(name)
  return createSandbox(options(name, extra))
}

run('the shared image layer', () => {
  beforeAll(() => ensureBuilt())
  afterAll(async () => {
    for (const name of made) await removeSandbox(name, stateRoot)
  })

  it('is shared, named by the binary, read-only to containers, and goes with the last sandbox', async () => {
    const a = await create(`a-${id}`)
    const b = await create(`b-${id}`)
    const layer = `${root}/layers/busybox-${digest()}`
    expect([a.state.lowerDir, b.state.lowerDir]).toEqual([layer, layer])
    // the layers' index names the layer by the binary's stat, so the next create reads no 2 MB
    const st = statSync('/bin/busybox', {bigint: true})
    expect(readlinkSync(`${root}/layers/.stat-${st.dev}-${st.ino}-${st.size}-${st.ctimeNs}-${st.mtimeNs}`)).toBe(`busybox-${digest()}`)
    const applets = readdirSync(`${layer}/bin`).length
    expect(applets).toBeGreaterThan(100)

    // a container writes, removes and overwrites in its image: only its own upper layer changes
    const pid = String(a.state.processes['ctr:app'].pid)
    const r = await execa('nsenter', ['--target', pid, '--mount', '--pid', '--', '/bin/sh', '-c', 'echo x > /bin/written && rm /bin/ls && echo written-by-app >> /etc/passwd && echo done'], {reject: false})
    expect(String(r.stdout) + String(r.stderr)).toBe('done')
    expect(existsSync(`${layer}/bin/written`)).toBe(false)
    expect(existsSync(`${layer}/bin/ls`)).toBe(true)
    expect(readFileSync(`${layer}/etc/passwd`, 'utf8')).toBe(MINIMAL_PASSWD)
    expect(createHash('sha256').update(readFileSync(`${layer}/bin/busybox`)).digest('hex')).toBe(digest())
    const other = await execa('nsenter', ['--target', String(b.state.processes['ctr:app'].pid), '--mount', '--', '/bin/sh', '-c', 'ls /bin/ls; ls /bin/written'], {reject: false})
    expect(String(other.stdout)).toBe('/bin/ls')
    expect(readdirSync(`${layer}/bin`)).toHaveLength(applets)
    // chroot runs in its layer itself, with every capability: it never gets the shared one
    const c = await create(`c-${id}`, {isolation: 'chroot'})
    expect(c.state.lowerDir).toBe(`${stateRoot}/c-${id}/rootfs`)
    expect(await removeSandbox(`c-${id}`, stateRoot)).toEqual({removed: true, problems: []})

    expect(await removeSandbox(`a-${id}`, stateRoot)).toEqual({removed: true, problems: []})
    expect(existsSync(layer)).toBe(true)
    expect(await removeSandbox(`b-${id}`, stateRoot)).toEqual({removed: true, problems: []})
    expect(existsSync(root)).toBe(false)
    expect(await leftEmpty(machineFolders(cidr))).toEqual([])
  }, 120_000)

  it('is removed when the only create fails after building it, and rebuilt by the next', async () => {
    const probe = await createSandbox({...options(`p-${id}`), dryRun: true})
    const at = probe.plan.steps.findIndex((s) => s.id === 'rootfs.layer') + 1
    expect(at).toBeGreaterThan(0)
    const error = await create(`f-${id}`, {failStep: at + 3}).catch((e) => e)
    expect(error).toBeInstanceOf(SandboxError)
    expect(existsSync(root)).toBe(false)
    expect(await leftEmpty(machineFolders(cidr))).toEqual([])
    // two creates at once build it once between them, and both run on it
    const [x, y] = await Promise.all([create(`x-${id}`), create(`y-${id}`)])
    expect(x.state.lowerDir).toBe(y.state.lowerDir)
    expect(readdirSync(`${root}/layers`).filter((n) => !n.startsWith('.stat-'))).toEqual([`busybox-${digest()}`])
    for (const name of [`x-${id}`, `y-${id}`]) await removeSandbox(name, stateRoot)
    expect(existsSync(root)).toBe(false)
    expect(await leftEmpty(machineFolders(cidr))).toEqual([])
  }, 120_000)
})
