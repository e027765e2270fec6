// logs, net and doctor give the same answer from a snapshot as from the node it was taken on.
// Everything runs in a network namespace of the test's own, so other tests' veths cannot
// change the network between the snapshot and the live answer.
import {spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {itemsOf, withoutProvenance} from '../../helpers/volatile.js'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
const cli = join(repo, 'bin/run.js')
const uid = `5e0d8c1a-${Math.random().toString(16).slice(2, 6)}-4b00-9c00-00000000abcd`
const ns = `ndfrom-${Math.random().toString(36).slice(2, 7)}`
const peer = `${ns}-p`
let root: string
let snap: string

function nodedoc(...args: string[]) {
  const r = spawnSync('ip', ['netns', 'exec', ns, 'node', cli, ...args], {encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}})
  return {stdout: r.stdout, stderr: r.stderr, status: r.status}
}

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, {encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`)
}

beforeAll(() => {
  ip('netns', 'add', ns)
  ip('netns', 'add', peer)
  ip('-n', ns, 'link', 'add', 'ndveth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', peer)
  ip('-n', ns, 'link', 'set', 'ndveth0', 'up')
  ip('-n', ns, 'route', 'add', '10.85.0.9', 'dev', 'ndveth0', 'scope', 'host')
  root = mkdtempSync(join(tmpdir(), 'nodedoc-from-'))
  const ctr = join(root, 'var/log/pods', `web_api-0_${uid}`, 'app')
  mkdirSync(ctr, {recursive: true})
  writeFileSync(join(ctr, '0.log'), '2024-05-01T10:00:00.1Z stdout F hello from the snapshot\n2024-05-01T10:00:00.2Z stderr P no end\n')
  mkdirSync(join(root, 'etc/cni/net.d'), {recursive: true})
  writeFileSync(join(root, 'etc/cni/net.d/10-bridge.conf'), '{"cniVersion":"0.4.0","name":"cbr0","type":"bridge","bridge":"cni0","ipam":{"type":"host-local","subnet":"10.85.0.0/16"}}')
  mkdirSync(join(root, 'var/lib/cni/networks/cbr0'), {recursive: true})
  writeFileSync(join(root, 'var/lib/cni/networks/cbr0/10.85.0.7'), `${'d'.repeat(64)}\neth0\n`)
  // this machine's own kernel files, copied: a live /proc would let other suites' pods and
  // processes change between the snapshot and the live answer
  for (const file of ['swaps', 'loadavg', 'sys/kernel/pid_max', 'sys/net/ipv4/ip_forward']) {
    mkdirSync(dirname(join(root, 'proc', file)), {recursive: true})
    writeFileSync(join(root, 'proc', file), readFileSync(join('/proc', file)))
  }
  snap = join(mkdtempSync(join(tmpdir(), 'nodedoc-from-snap-')), 'snap')
  const r = nodedoc('snapshot', '-o', snap, '--host-root', root)
  expect(r.status, r.stderr).toBe(0)
})
afterAll(() => {
  spawnSync('ip', ['netns', 'del', ns])
  spawnSync('ip', ['netns', 'del', peer])
  rmSync(root, {recursive: true, force: true})
  if (snap) rmSync(dirname(snap), {recursive: true, force: true})
})

describe('--from SNAPSHOT', () => {
  it('logs reads the recorded tail', () => {
    const live = nodedoc('logs', 'api-0', '-n', 'web', '--host-root', root, '-o', 'json')
    const replay = nodedoc('logs', 'api-0', '-n', 'web', '--from', snap, '-o', 'json')
    expect(replay.stderr).toBe('')
    expect(withoutProvenance(JSON.parse(replay.stdout))).toEqual(withoutProvenance(JSON.parse(live.stdout)))
    expect(JSON.parse(replay.stdout).entries.map((e: {text: string}) => e.text)).toEqual(['hello from the snapshot', 'no end'])
  })
  it('net gives the same routes, links and CNI config', () => {
    const live = withoutProvenance(JSON.parse(nodedoc('net', '--host-root', root, '-o', 'json').stdout))
    const replay = withoutProvenance(JSON.parse(nodedoc('net', '--from', snap, '-o', 'json').stdout))
    expect(replay).toEqual(live)
    expect(replay.cni.inUse.file).toBe('10-bridge.conf')
    expect(replay.routesToNoPod).toEqual([{ip: '10.85.0.9', pod: null, dev: 'ndveth0', message: `no pod holds 10.85.0.9 (veth peer in netns ${peer})`}])
  })
  it('doctor reaches the same verdicts from files (the socket question aside)', () => {
    const checks = ['swap', 'ip-forward', 'cgroup-version', 'cni-ip-leaks', 'pids']
    const args = checks.flatMap((c) => ['--check', c])
    const live = itemsOf(JSON.parse(nodedoc('doctor', ...args, '--host-root', root, '-o', 'json').stdout))
    const replay = itemsOf(JSON.parse(nodedoc('doctor', ...args, '--from', snap, '-o', 'json').stdout))
    expect(replay.map((r: {id: string; status: string}) => [r.id, r.status])).toEqual(live.map((r: {id: string; status: string}) => [r.id, r.status]))
    expect(replay.find((r: {id: string}) => r.id === 'cni-ip-leaks').status).toBe('WARN')
    expect(replay.find((r: {id: string}) => r.id === 'pids').status).toBe('PASS')
    expect(itemsOf(JSON.parse(nodedoc('doctor', '--check', 'cri-socket', '--from', snap, '-o', 'json').stdout))[0].status).not.toBe('PASS')
  })
})
