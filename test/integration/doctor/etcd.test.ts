// A real etcd (Debian's etcd-server) on loopback ports, seen through a --host-root that holds a
// kubeadm-style manifest and container log and bind-mounts the live /proc and /tmp.
import {type ChildProcess, execFileSync, spawn, spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {byId, doctor, suffix} from './helpers.js'

const haveEtcd = spawnSync('etcd', ['--version']).status === 0 && spawnSync('etcdctl', ['version']).status === 0
const clientPort = 20000 + Math.floor(Math.random() * 20000)
const peerPort = clientPort + 1
const name = `nd-${suffix()}`
let root: string
let dataDir: string
let etcd: ChildProcess | undefined
const mounted: string[] = []

async function healthy(): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (spawnSync('etcdctl', [`--endpoints=http://127.0.0.1:${clientPort}`, '--command-timeout=1s', 'endpoint', 'health']).status === 0) return true
    await new Promise((r) => setTimeout(r, 100))
  }
  return false
}

beforeAll(async () => {
  if (!haveEtcd) return
  root = mkdtempSync(join(tmpdir(), 'nodedoc-etcd-root-'))
  dataDir = join(mkdtempSync(join(tmpdir(), 'nodedoc-etcd-data-')), 'member-data')
  // bind mounts, not links: a --host-root never follows a link out of itself
  for (const dir of ['/proc', '/tmp']) {
    mkdirSync(join(root, dir))
    execFileSync('mount', ['--bind', dir, join(root, dir)])
    mounted.push(join(root, dir))
  }
  mkdirSync(join(root, 'etc/kubernetes/manifests'), {recursive: true})
  writeFileSync(join(root, 'etc/kubernetes/manifests/etcd.yaml'), `apiVersion: v1\nkind: Pod\nmetadata:\n  name: etcd\n  namespace: kube-system\nspec:\n  containers:\n  - command:\n    - etcd\n    - --data-dir=${dataDir}\n    name: etcd\n`)
  mkdirSync(join(root, 'var/log/containers'), {recursive: true})
  writeFileSync(join(root, 'var/log/containers', `etcd-cp_kube-system_etcd-${'f'.repeat(64)}.log`), '')
  etcd = spawn('etcd', [
    '--name', name, '--data-dir', dataDir,
    '--listen-client-urls', `http://127.0.0.1:${clientPort}`, '--advertise-client-urls', `http://127.0.0.1:${clientPort}`,
    '--listen-peer-urls', `http://127.0.0.1:${peerPort}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peerPort}`,
    '--initial-cluster', `${name}=http://127.0.0.1:${peerPort}`,
  ], {stdio: 'ignore'})
  expect(await healthy()).toBe(true)
})

afterAll(async () => {
  if (etcd && etcd.exitCode === null && etcd.signalCode === null) {
    etcd.kill('SIGCONT')
    etcd.kill('SIGKILL')
    await new Promise((r) => etcd!.once('exit', r))
  }
  for (const dir of mounted.reverse()) spawnSync('umount', [dir])
  // never recursive through a mount that is still there: that would be the live /tmp
  if (root && mounted.every((dir) => spawnSync('mountpoint', ['-q', dir]).status !== 0)) rmSync(root, {recursive: true, force: true})
  if (dataDir) rmSync(join(dataDir, '..'), {recursive: true, force: true})
})

describe.skipIf(!haveEtcd)('doctor etcd against a real etcd', () => {
  it('PASS: process, manifest, container log, data dir and etcdctl endpoint health all found', () => {
    const line = byId(doctor(['etcd'], {hostRoot: root}).results, 'etcd')
    expect(line.status).toBe('PASS')
    expect(line.seen).toContain(`etcd PID ${etcd!.pid}`)
    expect(line.seen).toContain('/etc/kubernetes/manifests/etcd.yaml')
    expect(line.seen).toContain(`log /var/log/containers/etcd-cp_kube-system_etcd-${'f'.repeat(64)}.log`)
    expect(line.seen).toContain(`data dir ${dataDir}`)
    expect(line.seen).toMatch(new RegExp(`etcdctl: http://127.0.0.1:${clientPort} is healthy`))
  })

  it('FAIL when etcd stops answering (SIGSTOP), FAIL when it is gone but its manifest stays', async () => {
    etcd!.kill('SIGSTOP')
    try {
      const stopped = doctor(['etcd'], {hostRoot: root})
      expect(byId(stopped.results, 'etcd')).toMatchObject({status: 'FAIL', fix: expect.stringMatching(/does not answer health/)})
      expect(stopped.status).toBe(1)
    } finally {
      etcd!.kill('SIGCONT')
    }
    etcd!.kill('SIGTERM')
    await new Promise((r) => etcd!.once('exit', r))
    const gone = byId(doctor(['etcd'], {hostRoot: root}).results, 'etcd')
    expect(gone).toMatchObject({status: 'FAIL', seen: expect.stringMatching(/^no etcd process; \/etc\/kubernetes\/manifests\/etcd.yaml/)})
  }, 30_000)
})

if (!haveEtcd) it.skip('doctor etcd against a real etcd: etcd and etcdctl not installed (Debian packages etcd-server, etcd-client)', () => {})
