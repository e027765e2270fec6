// Nothing a sandbox makes may outlive it: after create/rm cycles, a failure injected at every
// step, and Ctrl-C mid-create, the host looks exactly as it did before.
import {spawn} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {SandboxError, createSandbox, removeSandbox} from '../../../src/sandbox/service.js'
import {itemsOf} from '../../helpers/volatile.js'
import {CLI_ENV, IS_ROOT, ROOT, RunIds, cli, ensureBuilt, hostPicture, podYaml, suffix, suiteManifestFile, testCidr} from './helpers.js'

const run = IS_ROOT ? describe : describe.skip
const id = suffix()
const ns = `nd-leak-${id}`
const cidr = testCidr()
const prefix = `leak-${id}`
const scratch = `scratch-${id}`
// volumes and resources too, so every kind of step is on the list
const containers = `    - name: app
      image: busybox
      command: ['sh', '-c', 'echo up; exec sleep 10000']
      volumeMounts: [{name: ${scratch}, mountPath: /scratch}, {name: etc, mountPath: /host/etc, readOnly: true}]
      resources: {requests: {memory: 16Mi, cpu: 10m}, limits: {memory: 64Mi, cpu: 100m}}
`
const volumes = `  volumes:\n    - {name: ${scratch}, emptyDir: {}}\n    - {name: etc, hostPath: {path: /etc}}\n`
const yaml = podYaml('leaky', ns, containers, volumes)
const manifest = suiteManifestFile(yaml)
// 50 keeps the suite under 3 minutes on a loaded 2-vCPU node; NODEDOC_SANDBOX_CYCLES=100 for the full count
const CYCLES = Number(process.env.NODEDOC_SANDBOX_CYCLES ?? 50)

const run_ = new RunIds()
const options = (name: string) => ({manifestPath: manifest, name, isolation: 'full' as const, podCidr: cidr, cgroupDriver: 'systemd' as const, podPidsLimit: 64, podUid: run_.uid()})
const picture = () => hostPicture(ns, [prefix], run_)
// the number --explain gives pivot_root in the CLI's plan (no --pod-pids-limit), whatever the plan's length
const PIVOT = !IS_ROOT ? 0 : await pivotRootStep()

/**
 * The tests' names need it while they are collected, before any hook: the dry run reads a
 * manifest of its own, removed at once (a run that filters out every test leaves nothing).
 */
async function pivotRootStep(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'nd-sbx-plan-'))
  try {
    const manifestPath = join(dir, 'pod.yaml')
    writeFileSync(manifestPath, yaml)
    const {plan} = await createSandbox({...options(`${prefix}-plan`), manifestPath, podPidsLimit: null, dryRun: true})
    return plan.steps.findIndex((s) => s.id === 'ctr.app.pivot_root') + 1
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

run('sandbox leaves nothing behind', () => {
  let before: Record<string, string>
  beforeAll(() => {
    ensureBuilt()
    before = picture()
  })
  afterAll(async () => {
    const left = existsSync('/run/nodedoc/sandboxes') ? readdirSync('/run/nodedoc/sandboxes').filter((n) => n.startsWith(prefix)) : []
    if (left.length) await cli(['sandbox', 'rm', ...left])
  })

  it(`survives ${CYCLES} create/rm cycles`, async () => {
    const started = performance.now()
    for (let i = 0; i < CYCLES; i++) {
      const name = `${prefix}-${i}`
      const {state} = await createSandbox(options(name))
      expect(state.phase).toBe('running')
      const {removed, problems} = await removeSandbox(name)
      expect({removed, problems}).toEqual({removed: true, problems: []})
    }
    expect(picture()).toEqual(before)
    process.stderr.write(`sandbox: ${CYCLES} create/rm cycles in ${((performance.now() - started) / 1000).toFixed(1)} s\n`)
  }, 300_000)

  it('rolls back a failure injected at every step', async () => {
    const probe = await createSandbox({...options(`${prefix}-probe`), dryRun: true})
    const count = probe.plan.steps.length
    expect(count).toBeGreaterThan(60)
    for (let k = 1; k <= count; k++) {
      const error = await createSandbox({...options(`${prefix}-f${k}`), failStep: k}).catch((e) => e)
      expect(error).toBeInstanceOf(SandboxError)
      expect(error.message).toMatch(new RegExp(`^step ${k} \\(${probe.plan.steps[k - 1].id.replace(/[.]/g, '\\.')}\\) failed: injected failure`))
      expect(error.message).toMatch(/everything made so far was removed$/)
      const now = picture()
      if (JSON.stringify(now) !== JSON.stringify(before)) expect({step: k, ...now}).toEqual({step: k, ...before})
    }
  }, 300_000)

  it('refuses a pod UID that a running sandbox or a kubelet pod on the node has, and leaves that pod whole', async () => {
    const first = options(`${prefix}-uid`)
    const {state} = await createSandbox(first)
    const logDir = `/var/log/pods/${ns}_${prefix}-uid_${first.podUid}`
    try {
      const error = await createSandbox({...options(`${prefix}-uid2`), podUid: first.podUid}).catch((e) => e)
      expect(error).toBeInstanceOf(SandboxError)
      // the first sandbox's emptyDir made its pod dir, as the kubelet's would
      expect(error.message).toBe(`--uid ${first.podUid}: a pod on this node has that UID already (/var/lib/kubelet/pods/${first.podUid}); a sandbox removes what carries its UID, so it takes a UID of its own`)
      // the first sandbox kept its log dir and its processes
      expect(existsSync(logDir)).toBe(true)
      const pids = Object.values(state.processes).map((p) => p.pid)
      expect(pids.length).toBeGreaterThan(1)
      for (const pid of pids) expect(() => process.kill(pid, 0)).not.toThrow()
    } finally {
      expect(await removeSandbox(`${prefix}-uid`)).toEqual({removed: true, problems: []})
    }
    // a pod the kubelet runs: its dir under /var/lib/kubelet/pods is the kubelet's, not the sandbox's
    const kubeletPod = {...options(`${prefix}-uid3`)}
    const made = ['/var/lib/kubelet', '/var/lib/kubelet/pods'].filter((d) => !existsSync(d))
    const podDir = `/var/lib/kubelet/pods/${kubeletPod.podUid}`
    mkdirSync(`${podDir}/volumes`, {recursive: true})
    writeFileSync(`${podDir}/volumes/data`, 'the kubelet\'s\n')
    try {
      const error = await createSandbox(kubeletPod).catch((e) => e)
      expect(error).toBeInstanceOf(SandboxError)
      expect(error.message).toMatch(new RegExp(`^--uid ${kubeletPod.podUid}: a pod on this node has that UID already \\(${podDir}\\)`))
      expect(readFileSync(`${podDir}/volumes/data`, 'utf8')).toBe('the kubelet\'s\n')
    } finally {
      rmSync(podDir, {recursive: true, force: true})
      for (const d of made.reverse()) rmSync(d, {recursive: true, force: true})
    }
    expect(picture()).toEqual(before)
  })

  it('takes the fault from NODEDOC_SANDBOX_FAIL_STEP through the CLI', async () => {
    const r = await cli(['sandbox', 'create', '-f', manifest, '--name', `${prefix}-env`, '--pod-cidr', cidr, '--cgroup-driver', 'systemd', '--uid', run_.uid()], {env: {NODEDOC_SANDBOX_FAIL_STEP: '40'}})
    expect(r.exitCode).toBe(1)
    expect(String(r.stderr)).toMatch(/^error: step 40 \(\S+\) failed: injected failure \(NODEDOC_SANDBOX_FAIL_STEP=40\); everything made so far was removed$/m)
    expect(picture()).toEqual(before)
  })

  // steps run at once and the last ones can all end before a signal arrives on a busy machine:
  // NODEDOC_SANDBOX_HOLD_STEP keeps the picked step from acting until the signal is in
  it.each([8, 35, 60, PIVOT])('rolls back on Ctrl-C during step %d', async (at) => {
    const name = `${prefix}-int${at}`
    const child = spawn(process.execPath, [`${ROOT}/bin/run.js`, 'sandbox', 'create', '-f', manifest, '--name', name, '--pod-cidr', cidr, '--cgroup-driver', 'systemd', '--explain', '--uid', run_.uid()], {cwd: ROOT, env: {...process.env, ...CLI_ENV, NODEDOC_SANDBOX_HOLD_STEP: String(at)}})
    let stderr = ''
    let sent = false
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
      if (!sent && stderr.includes(`\n[${at}] `)) {
        sent = true
        child.kill('SIGINT')
      }
    })
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    expect({sent, stderr: sent ? '' : stderr}).toEqual({sent: true, stderr: ''})
    expect(code).toBe(130)
    expect(stderr).toMatch(/error: interrupted at step \d+ \(\S+\); everything made so far was removed\n$/)
    expect(existsSync(`/run/nodedoc/sandboxes/${name}`)).toBe(false)
    expect(picture()).toEqual(before)
  })

  // the operator's ssh session drops: SIGHUP to the whole process group (the step's own
  // programs get it too)
  it.each([8, 35, 60, PIVOT])('rolls back on SIGHUP during step %d', async (at) => {
    const name = `${prefix}-hup${at}`
    const child = spawn(process.execPath, [`${ROOT}/bin/run.js`, 'sandbox', 'create', '-f', manifest, '--name', name, '--pod-cidr', cidr, '--cgroup-driver', 'systemd', '--explain', '--uid', run_.uid()], {cwd: ROOT, env: {...process.env, ...CLI_ENV, NODEDOC_SANDBOX_HOLD_STEP: String(at)}, detached: true})
    let stderr = ''
    let sent = false
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
      if (!sent && stderr.includes(`\n[${at}] `)) {
        sent = true
        process.kill(-child.pid!, 'SIGHUP')
      }
    })
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    expect({sent, stderr: sent ? '' : stderr}).toEqual({sent: true, stderr: ''})
    expect(code).toBe(129)
    expect(stderr).toMatch(/error: interrupted at step \d+ \(\S+\); everything made so far was removed\n$/)
    expect(existsSync(`/run/nodedoc/sandboxes/${name}`)).toBe(false)
    expect(picture()).toEqual(before)
  })

  // `sandbox create --explain 2>&1 | head`: the reader of its output goes away mid-create
  it.each([8, 35, 60, PIVOT])('rolls back when the pipe it writes to closes during step %d', async (at) => {
    const name = `${prefix}-pipe${at}`
    const child = spawn(process.execPath, [`${ROOT}/bin/run.js`, 'sandbox', 'create', '-f', manifest, '--name', name, '--pod-cidr', cidr, '--cgroup-driver', 'systemd', '--explain', '--uid', run_.uid()], {cwd: ROOT, env: {...process.env, ...CLI_ENV, NODEDOC_SANDBOX_HOLD_STEP: String(at)}})
    let seen = ''
    let closed = false
    child.stderr.on('data', (chunk: Buffer) => {
      seen += chunk.toString()
      if (!closed && seen.includes(`\n[${at}] `)) {
        closed = true
        child.stderr.destroy()
        child.stdout.destroy()
      }
    })
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    expect(closed).toBe(true)
    expect(code).toBe(141)
    expect(existsSync(`/run/nodedoc/sandboxes/${name}`)).toBe(false)
    expect(picture()).toEqual(before)
  })

  // every step done, the containers running: the create still fails if its answer cannot be
  // given (`sandbox create ... | true`), and what it made goes as for any other failure
  it('rolls back when its output cannot be written after the last step', async () => {
    const name = `${prefix}-out`
    const child = spawn(process.execPath, [`${ROOT}/bin/run.js`, 'sandbox', 'create', '-f', manifest, '--name', name, '--pod-cidr', cidr, '--cgroup-driver', 'systemd', '--uid', run_.uid()], {cwd: ROOT, env: {...process.env, ...CLI_ENV}, stdio: ['ignore', 'pipe', 'pipe']})
    child.stdout.destroy()
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()))
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    if (existsSync(`/run/nodedoc/sandboxes/${name}`)) await cli(['sandbox', 'rm', name])
    expect({code, stderr}).toEqual({code: 141, stderr: expect.stringMatching(/error: interrupted after the last step; everything made so far was removed\n$/)})
    expect(picture()).toEqual(before)
  })

  it('removes a half-made sandbox (state written, process killed mid-create) and rm is idempotent', async () => {
    const name = `${prefix}-half`
    const child = spawn(process.execPath, [`${ROOT}/bin/run.js`, 'sandbox', 'create', '-f', manifest, '--name', name, '--pod-cidr', cidr, '--cgroup-driver', 'systemd', '--explain', '--uid', run_.uid()], {cwd: ROOT, env: {...process.env, ...CLI_ENV, NODEDOC_SANDBOX_HOLD_STEP: String(PIVOT)}})
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
      if (stderr.includes(`\n[${PIVOT}] `)) child.kill('SIGKILL')
    })
    await new Promise((resolve) => child.on('close', resolve))
    try {
      const state = JSON.parse(readFileSync(`/run/nodedoc/sandboxes/${name}/state.json`, 'utf8'))
      expect(state.phase).toBe('creating')
      expect(state.steps.length).toBeGreaterThan(20)
      expect(state.processes.pause.pid).toBeGreaterThan(1)
      // its creator is gone: ls says so, and what to do
      const ls = itemsOf<{name: string; phase: string; problem?: string}>(JSON.parse(String((await cli(['sandbox', 'ls', '-o', 'json'])).stdout)))
      expect(ls.find((s) => s.name === name)).toMatchObject({phase: 'interrupted', problem: `its create (pid ${state.creator.pid}) ended half-way; remove what it made: nodedoc sandbox rm ${name}`})
      expect(String((await cli(['sandbox', 'ls', '-o', 'wide'])).stdout)).toMatch(new RegExp(`^${name}\\s+${ns}\\s+interrupted\\s`, 'm'))
    } finally {
      const rm = await cli(['sandbox', 'rm', name])
      expect(String(rm.stdout)).toBe(`${name}: removed`)
    }
    expect(picture()).toEqual(before)
    expect(String((await cli(['sandbox', 'rm', name])).stdout)).toBe(`${name}: not found (nothing to remove)`)
  })
})
