import {mkdtemp, readFile, rm} from 'node:fs/promises'
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
