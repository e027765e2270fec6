import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {parsePodManifest} from '../../../src/sandbox/manifest.js'
import type {SandboxConfig} from '../../../src/sandbox/plan.js'

export const UID = '8d5e6f9a-1b2c-4d3e-9f80-a1b2c3d4e5f6'
export const SANDBOX_ID = 'a'.repeat(64)

export function manifest(name: string) {
  return parsePodManifest(readFileSync(join(__dirname, '../../fixtures/sandbox', name), 'utf8'), name)
}

export function config(file: string, overrides: Partial<SandboxConfig> = {}): SandboxConfig {
  const m = manifest(file)
  return {
    manifest: m,
    name: m.name,
    podUid: UID,
    sandboxId: SANDBOX_ID,
    containerIds: Object.fromEntries(m.containers.map((c, i) => [c.name, String(i + 1).repeat(64)])),
    isolation: 'full',
    stateDir: `/run/nodedoc/sandboxes/${m.name}`,
    cgroup: {version: 1, driver: 'cgroupfs', mountRoot: '/sys/fs/cgroup', controllers: ['cpu', 'cpuacct', 'memory', 'pids']},
    network: {podIp: '10.250.0.2', gateway: '10.250.0.1', prefixLength: 24, cidr: '10.250.0.0/24', hostVeth: 'vethnd0badcafe', leasePath: '/run/nodedoc/ipam/10.250.0.0_24/10.250.0.2'},
    rootfs: {kind: 'layer', dir: `/run/nodedoc/layers/busybox-${'ab'.repeat(32)}`, binary: '/bin/busybox', digest: 'ab'.repeat(32)},
    nodeMemoryBytes: 24684096 * 1024,
    podPidsLimit: null,
    sleepProgram: '/usr/bin/sleep',
    gateShell: '/bin/sh',
    logRoot: '/var/log',
    kubeletRoot: '/var/lib/kubelet',
    ...overrides,
  }
}
