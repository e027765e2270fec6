import {spawnSync} from 'node:child_process'
import {readdirSync} from 'node:fs'
import {mkdtemp, readFile, rm, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {planSandbox} from '../../../src/sandbox/plan.js'
import {LiveSandboxOps} from '../../../src/write/sandbox-ops.js'
import {UID, config} from '../sandbox/plan-fixture.js'

describe('cgroup v2 on a temp dir tree', () => {
  it('applies the v2 cgroup steps: slices, subtree_control, cpu.max, memory.max, cpu.weight', async () => {
    const root = await mkdtemp(join(tmpdir(), 'nd-cgv2-'))
    try {
      const cfg = config('greedy.yaml', {cgroup: {version: 2, driver: 'systemd', mountRoot: root, controllers: ['']}, podPidsLimit: 9})
      const plan = planSandbox(cfg)
      const ops = new LiveSandboxOps(join(root, 'state.json'), UID)
      for (const step of plan.steps.filter((s) => s.id.startsWith('cgroup.') || /^ctr\.greedy\.(cgroup\.unified|cpu|memory|pids)/.test(s.id))) await ops.apply(step.op, {})
      const slice = join(root, `kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID.replace(/-/g, '_')}.slice`)
      const ctr = join(slice, `cri-containerd-${'1'.repeat(64)}.scope`)
      const read = (p: string) => readFile(p, 'utf8')
      expect(await read(join(root, 'cgroup.subtree_control'))).toBe('+cpu +memory +pids')
      expect(await read(join(slice, 'cgroup.subtree_control'))).toBe('+cpu +memory +pids')
      expect(await read(join(slice, 'memory.max'))).toBe('209715200')
      expect(await read(join(slice, 'cpu.max'))).toBe('50000 100000')
      expect(await read(join(slice, 'cpu.weight'))).toBe('10')
      expect(await read(join(slice, 'pids.max'))).toBe('9')
      expect(await read(join(ctr, 'memory.max'))).toBe('209715200')
      expect(await read(join(ctr, 'cpu.max'))).toBe('50000 100000')
    } finally {
      await rm(root, {recursive: true, force: true})
    }
  })
})

describe('a mount point file (write of no content)', () => {
  it('is made where absent, keeps the bytes of a file there, and follows no link put in its place', async () => {
    const root = await mkdtemp(join(tmpdir(), 'nd-touch-'))
    try {
      const ops = new LiveSandboxOps(join(root, 'state.json'), UID)
      await ops.apply({kind: 'write', path: join(root, 'etc/hosts'), content: ''}, {})
      expect(await readFile(join(root, 'etc/hosts'), 'utf8')).toBe('')
      await writeFile(join(root, 'etc/hostname'), 'kept\n')
      await ops.apply({kind: 'write', path: join(root, 'etc/hostname'), content: ''}, {})
      expect(await readFile(join(root, 'etc/hostname'), 'utf8')).toBe('kept\n')
      await writeFile(join(root, 'canary'), 'canary\n')
      await symlink(join(root, 'canary'), join(root, 'etc/resolv.conf'))
      await expect(ops.apply({kind: 'write', path: join(root, 'etc/resolv.conf'), content: ''}, {})).rejects.toThrow(`write ${join(root, 'etc/resolv.conf')}: ELOOP`)
      expect(await readFile(join(root, 'canary'), 'utf8')).toBe('canary\n')
    } finally {
      await rm(root, {recursive: true, force: true})
    }
  })
})

describe('a container whose chain ends before it is held', () => {
  it("fails with the first line the chain's program said on stderr, and leaves no process", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nd-held-'))
    const mark = `nd-held-${process.pid}-${Date.now()}`
    try {
      const ops = new LiveSandboxOps(join(dir, 'state.json'), mark)
      const chain = ['sh', '-c', 'echo "unshare: cannot do that" >&2; echo more >&2; exit 1']
      await expect(ops.apply({kind: 'startContainer', container: 'app', chain, env: {PATH: process.env.PATH ?? '/usr/bin:/bin'}, gated: 'self', ready: 'nd-gate', logPath: join(dir, '0.log'), stateDir: dir, shim: '/bin/sh'}, {}))
        .rejects.toThrow(/container app: the container process exited before it could be held \(sh -c .*: unshare: cannot do that\)/)
      await ops.sweep()
      const left = spawnSync('grep', ['-l', '-s', '-a', `NODEDOC_SANDBOX_UID=${mark}`, ...readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map((n) => `/proc/${n}/environ`)], {encoding: 'utf8'})
      expect(left.stdout).toBe('')
    } finally {
      await rm(dir, {recursive: true, force: true})
    }
  })
})
