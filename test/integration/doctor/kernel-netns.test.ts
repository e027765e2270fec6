// Kernel settings provoked for real inside a network namespace this test makes: sysctls under
// /proc/sys/net and iptables tables are per netns, so the machine's own stay untouched.
import {execFileSync, spawnSync} from 'node:child_process'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {byId, doctor, suffix} from './helpers.js'

const ns = `nddoc-${suffix()}`
const inNs = (...argv: string[]) => execFileSync('ip', ['netns', 'exec', ns, ...argv], {stdio: ['ignore', 'pipe', 'pipe']}).toString()

beforeAll(() => {
  execFileSync('ip', ['netns', 'add', ns])
})
afterAll(() => {
  spawnSync('ip', ['netns', 'del', ns])
})

describe('doctor kernel checks in a made netns', () => {
  it('ip-forward: FAIL at 0 (exit 1), PASS once the test sets it to 1', () => {
    inNs('sysctl', '-qw', 'net.ipv4.ip_forward=0')
    const off = doctor(['ip-forward'], {netns: ns})
    expect(byId(off.results, 'ip-forward')).toMatchObject({status: 'FAIL', seen: '/proc/sys/net/ipv4/ip_forward = 0'})
    expect(off.status).toBe(1)
    inNs('sysctl', '-qw', 'net.ipv4.ip_forward=1')
    const on = doctor(['ip-forward'], {netns: ns})
    expect(byId(on.results, 'ip-forward')).toMatchObject({status: 'PASS', seen: '/proc/sys/net/ipv4/ip_forward = 1'})
    expect(on.status).toBe(0)
  })

  it('bridge-nf-call-iptables: FAIL at 0, PASS at 1', () => {
    const path = '/proc/sys/net/bridge/bridge-nf-call-iptables'
    const present = spawnSync('ip', ['netns', 'exec', ns, 'test', '-e', path]).status === 0
    if (!present) {
      // br_netfilter not loaded on this kernel: the check must say so
      expect(byId(doctor(['bridge-nf-call-iptables'], {netns: ns}).results, 'bridge-nf-call-iptables')).toMatchObject({status: 'FAIL', seen: expect.stringMatching(/br_netfilter is not loaded/)})
      return
    }
    inNs('sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=0')
    expect(byId(doctor(['bridge-nf-call-iptables'], {netns: ns}).results, 'bridge-nf-call-iptables')).toMatchObject({status: 'FAIL', seen: `${path} = 0`})
    inNs('sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=1')
    expect(byId(doctor(['bridge-nf-call-iptables'], {netns: ns}).results, 'bridge-nf-call-iptables')).toMatchObject({status: 'PASS', seen: `${path} = 1`})
  })

  it('iptables-backend: PASS with KUBE- chains in nft only, FAIL once legacy has some too', () => {
    inNs('iptables-nft', '-t', 'nat', '-N', 'KUBE-SERVICES')
    inNs('iptables-nft', '-t', 'nat', '-A', 'PREROUTING', '-j', 'KUBE-SERVICES')
    const nftOnly = byId(doctor(['iptables-backend'], {netns: ns}).results, 'iptables-backend')
    expect(nftOnly).toMatchObject({status: 'PASS', seen: 'KUBE- lines: legacy 0, nft 1'})
    inNs('iptables-legacy', '-t', 'nat', '-N', 'KUBE-MARK-MASQ')
    inNs('iptables-legacy', '-t', 'nat', '-A', 'KUBE-MARK-MASQ', '-j', 'MARK', '--or-mark', '0x4000')
    const both = doctor(['iptables-backend'], {netns: ns})
    expect(byId(both.results, 'iptables-backend')).toMatchObject({status: 'FAIL', seen: 'KUBE- lines: legacy 2, nft 1'})
    expect(both.status).toBe(1)
  })

  it('conntrack-table reads this namespace\'s count against the max', () => {
    const line = byId(doctor(['conntrack-table'], {netns: ns}).results, 'conntrack-table')
    const count = spawnSync('ip', ['netns', 'exec', ns, 'cat', '/proc/sys/net/netfilter/nf_conntrack_count'], {encoding: 'utf8'})
    if (count.status !== 0) expect(line.status).toBe('SKIP')
    else expect(line).toMatchObject({status: 'PASS', seen: expect.stringMatching(new RegExp(`^${count.stdout.trim()} of \\d+ entries`))})
  })
})
