// The iptables-backend check on this machine's real iptables: with CAP_NET_ADMIN it counts the
// KUBE- lines each backend holds (as the test counts them itself); without it (setpriv drops the
// capability, as in an unprivileged debug container) it says it could not read the rules, never
// that the programs are not installed.
import {execFileSync, spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {byId, doctor} from './helpers.js'

const installed = (program: string) => spawnSync('sh', ['-c', `command -v ${program}`]).status === 0
const ready = installed('setpriv') && installed('iptables-legacy-save') && installed('iptables-nft-save')
const kubeLines = (program: string) => spawnSync(program, [], {encoding: 'utf8'}).stdout.split('\n').filter((l) => /^(:KUBE-|-A KUBE-)/.test(l)).length

describe.skipIf(!ready)('doctor iptables-backend on the real iptables (needs setpriv, iptables-legacy-save and iptables-nft-save)', () => {
  it('counts the KUBE- lines of each backend', () => {
    const line = byId(doctor(['iptables-backend']).results, 'iptables-backend')
    expect(line.seen).toBe(`KUBE- lines: legacy ${kubeLines('iptables-legacy-save')}, nft ${kubeLines('iptables-nft-save')}`)
    expect(['PASS', 'FAIL']).toContain(line.status)
  })

  // iptables-legacy-save asks the kernel only for the legacy tables it has (none on a node that
  // never used legacy, where it prints nothing and succeeds): a netns of the test's own holds one
  const netns = `nd-ipt-backend-${randomBytes(3).toString('hex')}`
  beforeAll(() => {
    execFileSync('ip', ['netns', 'add', netns])
    execFileSync('ip', ['netns', 'exec', netns, 'iptables-legacy', '-t', 'filter', '-S'], {stdio: 'ignore'})
  })
  afterAll(() => {
    execFileSync('ip', ['netns', 'del', netns])
  })

  it('without CAP_NET_ADMIN says it could not read the rules, and what each program said', () => {
    const {results, stderr} = doctor(['iptables-backend'], {netns, under: ['setpriv', '--inh-caps=-net_admin', '--bounding-set=-net_admin', '--']})
    const line = byId(results, 'iptables-backend')
    expect(line.status, stderr).toBe('SKIP')
    expect(line.seen).not.toContain('installed')
    // the programs' own "iptables-save v1.8.9 (legacy): " banner is left out
    expect(line.seen).not.toMatch(/ v\d+\.\d+/)
    expect(line.seen).toMatch(/^could not read the rules: iptables-legacy-save: [^;]*Permission denied[^;]*; iptables-nft-save: [^;]*Permission denied[^;]*$/)
  })
})
