import {mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {CriLineWriter, rfc3339Nano} from '../../../src/host/sandbox-shim.js'
import {LiveSandboxOps} from '../../../src/host/sandbox-ops.js'
import {pickPodAddress} from '../../../src/sandbox/ipam.js'
import {planSandbox} from '../../../src/sandbox/plan.js'
import {parseBusyboxList, parseLdd} from '../../../src/sandbox/rootfs.js'
import {UID, config} from './plan-fixture.js'

describe('ipam', () => {
  it('hands out the first free address after the gateway', () => {
    expect(pickPodAddress('10.250.0.0/24', [])).toEqual({podIp: '10.250.0.2', gateway: '10.250.0.1', prefixLength: 24, cidr: '10.250.0.0/24'})
    expect(pickPodAddress('10.250.0.7/24', ['10.250.0.2', '10.250.0.4']).podIp).toBe('10.250.0.3')
    expect(pickPodAddress('10.99.0.0/30', []).podIp).toBe('10.99.0.2')
  })
  it('says when the range is full or not a range', () => {
    expect(() => pickPodAddress('10.99.0.0/30', ['10.99.0.2'])).toThrow('--pod-cidr 10.99.0.0/30: no free address left')
    expect(() => pickPodAddress('banana', [])).toThrow('--pod-cidr banana: not a CIDR (e.g. 10.250.0.0/24)')
    expect(() => pickPodAddress('fd00::/64', [])).toThrow('only IPv4')
  })
})

describe('rootfs helpers', () => {
  it('reads ldd output', () => {
    const text = '\tlinux-vdso.so.1 (0x00007ffd)\n\tlibselinux.so.1 => /lib/x86_64-linux-gnu/libselinux.so.1 (0x00007f04f7307000)\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f04)\n\t/lib64/ld-linux-x86-64.so.2 (0x00007f04f736e000)\n'
    expect(parseLdd(text)).toEqual(['/lib/x86_64-linux-gnu/libselinux.so.1', '/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2'])
    expect(parseLdd('\tnot a dynamic executable\n')).toEqual([])
  })
  it('reads busybox --list', () => {
    expect(parseBusyboxList('[\n[[\nbusybox\nsh\nls\n\n')).toEqual(['[', '[[', 'sh', 'ls'])
  })
})

describe('CRI log lines', () => {
  it('prints RFC3339Nano like Go: trailing zeros dropped', () => {
    expect(rfc3339Nano(1764118923123456789n)).toBe('2025-11-26T01:02:03.123456789Z')
    expect(rfc3339Nano(1764118923120000000n)).toBe('2025-11-26T01:02:03.12Z')
    expect(rfc3339Nano(1764118923000000000n)).toBe('2025-11-26T01:02:03Z')
  })
  it('splits chunks into F lines, long ones into P pieces, and flushes at EOF', () => {
    const lines: string[] = []
    const w = new CriLineWriter('stderr', (l) => lines.push(l), () => 1764118923000000001n)
    w.push('hello\nwor')
    w.push('ld\n')
    w.push('x'.repeat(16 * 1024 + 3))
    w.push('\nno newline')
    w.end()
    const t = '2025-11-26T01:02:03.000000001Z'
    expect(lines).toEqual([
      `${t} stderr F hello\n`,
      `${t} stderr F world\n`,
      `${t} stderr P ${'x'.repeat(16 * 1024)}\n`,
      `${t} stderr F xxx\n`,
      `${t} stderr F no newline\n`,
    ])
  })
})

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

describe('requiredTools', () => {
  it('asks for what each isolation level runs', async () => {
    const {requiredTools} = await import('../../../src/sandbox/service.js')
    expect(requiredTools('chroot', false)).toEqual(['sh', 'chroot'])
    expect(requiredTools('unshare', true)).toEqual(['sh', 'sleep', 'chroot', 'mount', 'umount', 'unshare', 'nsenter', 'cp', 'hostname', 'ip'])
    expect(requiredTools('full', false)).toEqual(['sh', 'sleep', 'chroot', 'mount', 'umount', 'unshare', 'nsenter', 'cp', 'hostname', 'setpriv', 'pivot_root', 'rmdir'])
  })
})
