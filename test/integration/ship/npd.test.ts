// deploy/node-problem-detector/nodedoc-monitor.json run the way node-problem-detector runs it:
// each rule's command line, on this machine, judged by NPD's plugin convention (0 OK, 1 NonOK,
// anything else Unknown). ip_forward is flipped for real to see a condition rise and clear.
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {CHECKS} from '../../../src/doctor/registry.js'
import {REPO, nodedoc} from './helpers.js'

interface Rule {type: string; condition: string; reason: string; path: string; args: string[]; timeout: string}
const monitor = JSON.parse(readFileSync(join(REPO, 'deploy', 'node-problem-detector', 'nodedoc-monitor.json'), 'utf8')) as {
  plugin: string
  conditions: Array<{type: string; reason: string; message: string}>
  rules: Rule[]
}
const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward'
const before = readFileSync(IP_FORWARD, 'utf8').trim()

/** A rule's command line with the node's root where this test runs (/ rather than the pod's /host). */
const onThisMachine = (rule: Rule) => rule.args.map((a, i) => (rule.args[i - 1] === '--host-root' ? '/' : a))

afterAll(() => writeFileSync(IP_FORWARD, before))

describe('node-problem-detector custom plugin', () => {
  it('declares one permanent condition per rule, each a real doctor check', () => {
    expect(monitor.plugin).toBe('custom')
    expect(monitor.rules.length).toBeGreaterThanOrEqual(5)
    for (const rule of monitor.rules) {
      expect(rule.type).toBe('permanent')
      expect(monitor.conditions.map((c) => c.type)).toContain(rule.condition)
      expect(rule.path).toBe('/usr/local/bin/nodedoc')
      expect(rule.args.slice(0, 2)).toEqual(['doctor', '--check'])
      expect(CHECKS.map((c) => c.id)).toContain(rule.args[2])
    }
  })

  it('gets 0 or 1 from every rule on this machine, and a first line that names the check', async () => {
    for (const rule of monitor.rules) {
      const result = await nodedoc(onThisMachine(rule), {NO_COLOR: '1'})
      expect([0, 1], `${rule.args.join(' ')}: ${result.stderr}`).toContain(result.exitCode)
      expect(result.stdout.split('\n')[0]).toMatch(new RegExp(`^(PASS|WARN|FAIL|SKIP) ${rule.args[2]}\\b`))
      expect(result.exitCode === 1).toBe(result.stdout.startsWith('FAIL'))
    }
  })

  it('raises NodedocIPForwardDisabled when forwarding is off and clears it when it is back', async () => {
    const rule = monitor.rules.find((r) => r.args[2] === 'ip-forward')!
    expect(rule.condition).toBe('NodedocIPForwardDisabled')
    writeFileSync(IP_FORWARD, '0')
    const off = await nodedoc(onThisMachine(rule), {NO_COLOR: '1'})
    expect(off.exitCode).toBe(1)
    expect(off.stdout.split('\n')[0]).toMatch(/^FAIL ip-forward +\/proc\/sys\/net\/ipv4\/ip_forward = 0$/)
    writeFileSync(IP_FORWARD, '1')
    const on = await nodedoc(onThisMachine(rule), {NO_COLOR: '1'})
    expect(on.exitCode).toBe(0)
  })

  it('is Unknown (exit 2 or more), not OK, when nodedoc cannot read the node', async () => {
    const rule = monitor.rules[0]
    const result = await nodedoc([...onThisMachine(rule).slice(0, 3), '--from', join(REPO, 'no-such-snapshot')], {NO_COLOR: '1'})
    expect(result.exitCode).toBeGreaterThanOrEqual(2)
  })
})
