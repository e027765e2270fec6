// The whole doctor on this machine: every check answers, the exit status follows the FAILs,
// and the checks that read plain kernel state agree with what the test reads itself.
import {existsSync, readFileSync} from 'node:fs'
import {spawnSync} from 'node:child_process'
import {describe, expect, it} from 'vitest'
import {CHECKS} from '../../../src/doctor/registry.js'
import {byId, cli, doctor} from './helpers.js'

describe('nodedoc doctor on this machine', () => {
  const {results, status} = doctor([])

  it('answers every check with a status, what it saw and why; a fix for each WARN and FAIL', () => {
    expect(results.map((r) => r.id)).toEqual(CHECKS.map((c) => c.id))
    for (const r of results) {
      expect(['PASS', 'WARN', 'FAIL', 'SKIP'], r.id).toContain(r.status)
      expect(r.seen, r.id).not.toBe('')
      if (r.status === 'WARN' || r.status === 'FAIL') expect(r.fix, r.id).toBeTruthy()
    }
    expect(status).toBe(results.some((r) => r.status === 'FAIL') ? 1 : 0)
  })

  it('agrees with the kernel files the test reads itself', () => {
    expect(byId(results, 'ip-forward').seen).toBe(`/proc/sys/net/ipv4/ip_forward = ${readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim()}`)
    expect(byId(results, 'cgroup-version').status).toBe(existsSync('/sys/fs/cgroup/cgroup.controllers') ? 'PASS' : 'WARN')
    const swaps = readFileSync('/proc/swaps', 'utf8').trim().split('\n').length - 1
    expect(byId(results, 'swap').status).toBe(swaps > 0 ? 'FAIL' : 'PASS')
    const kubeletRunning = spawnSync('pgrep', ['-x', 'kubelet']).status === 0
    expect(byId(results, 'kubelet').status === 'FAIL').toBe(!kubeletRunning)
    const pidMax = readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim()
    expect(byId(results, 'pids').seen).toMatch(new RegExp(`^\\d+ of ${pidMax} PIDs`))
  })

  it('prints one line per check in the table, then the tally', () => {
    const r = spawnSync('node', [cli, 'doctor', '--check', 'kernel'], {encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}})
    const lines = r.stdout.split('\n').filter((l) => /^(PASS|WARN|FAIL|SKIP) /.test(l))
    expect(lines.map((l) => l.split(/\s+/)[1])).toEqual(['ip-forward', 'bridge-nf-call-iptables', 'conntrack-table'])
    expect(r.stdout).toMatch(/\n\d+ passed, \d+ warnings?, \d+ failed, \d+ skipped\n$/)
  })

  it('names an unknown check in one line and exits non-zero', () => {
    const r = spawnSync('node', [cli, 'doctor', '--check', 'no-such-check'], {encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}})
    expect(r.status).toBe(1)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/^error: unknown check no-such-check; known: swap, tools, init/)
  })
})
