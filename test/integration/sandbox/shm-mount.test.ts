// The pod's shm tmpfs is mounted by the pause's own shell: when that mount fails, the create
// says so in one line with mount's own message, and leaves nothing behind.
import {spawn} from 'node:child_process'
import {existsSync, rmdirSync, statSync, writeFileSync} from 'node:fs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {createSandbox} from '../../../src/sandbox/service.js'
import {CLI_ENV, IS_ROOT, ROOT, RunIds, cli, ensureBuilt, hostPicture, suiteManifestFile, podYaml, suffix, testCidr} from './helpers.js'

const run = IS_ROOT ? describe : describe.skip
const id = suffix()
const ns = `nd-shm-${id}`
const cidr = testCidr()
const name = `shm-${id}`
const manifest = suiteManifestFile(podYaml('shm', ns, "    - {name: app, image: busybox, command: ['sleep', '10000']}\n"))
const ids = new RunIds()
const picture = () => hostPicture(ns, [name], ids)

run('a failing shm mount', () => {
  let before: Record<string, string>
  beforeAll(() => {
    ensureBuilt()
    before = picture()
  })
  afterAll(async () => {
    if (existsSync(`/run/nodedoc/sandboxes/${name}`)) await cli(['sandbox', 'rm', name])
  })

  it("names the mount, carries mount's message in one line, and rolls back", async () => {
    const options = {manifestPath: manifest, name, isolation: 'full' as const, podCidr: cidr, cgroupDriver: 'systemd' as const, podPidsLimit: null, dryRun: true}
    const at = (await createSandbox(options)).plan.steps.findIndex((s) => s.id === 'pause.start') + 1
    expect(at).toBeGreaterThan(0)
    const shm = `/run/nodedoc/sandboxes/${name}/shm`
    // pause.start held (NODEDOC_SANDBOX_HOLD_STEP, 3 s): its mount point becomes a file meanwhile,
    // and the real mount then fails on it
    const child = spawn(process.execPath, [`${ROOT}/bin/run.js`, 'sandbox', 'create', '-f', manifest, '--name', name, '--pod-cidr', cidr, '--cgroup-driver', 'systemd', '--uid', ids.uid()], {cwd: ROOT, env: {...process.env, ...CLI_ENV, NODEDOC_SANDBOX_HOLD_STEP: String(at)}})
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()))
    let exited = false
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => {
      exited = true
      resolve(code)
    }))
    let swapped = false
    // the CLI's start on a loaded machine can take seconds: watched until it ends
    while (!swapped && !exited) {
      await new Promise((r) => setTimeout(r, 5))
      try {
        if (!statSync(shm).isDirectory()) continue
        rmdirSync(shm)
        writeFileSync(shm, '')
        swapped = true
      } catch {}
    }
    const code = await closed
    expect(swapped).toBe(true)
    expect(code).toBe(1)
    const escaped = shm.replace(/[.]/g, '\\.')
    expect(stderr).toMatch(new RegExp(`^error: step ${at} \\(pause\\.start\\) failed: mounting the pod's shm tmpfs on ${escaped} failed: mount: ${escaped}: [^\\n]+; everything made so far was removed\\n$`))
    expect(existsSync(`/run/nodedoc/sandboxes/${name}`)).toBe(false)
    expect(picture()).toEqual(before)
  }, 60_000)
})
