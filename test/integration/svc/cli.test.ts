// The command as a user runs it (needs `npm run build` first, as `npm test` does).
import {existsSync} from 'node:fs'
import {join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {execa} from 'execa'
import {describe, expect, it} from 'vitest'
import {CORPUS, HAVE_CORPUS, NO_CORPUS} from '../../unit/svc/corpus.js'

const ROOT = resolve(fileURLToPath(import.meta.url), '../../../..')
const BIN = join(ROOT, 'bin/run.js')
const BUILT = existsSync(join(ROOT, 'dist/commands/svc.js'))
const OVERALL = join(CORPUS, 'kube-proxy-iptables/kube-proxy-iptables-TestOverallIPTablesRules.txt')
if (!BUILT) console.warn('dist/commands/svc.js missing (run npm run build): svc CLI tests skipped')
if (!HAVE_CORPUS) console.warn(NO_CORPUS)

function svc(...args: string[]) {
  return execa(process.execPath, [BIN, 'svc', ...args], {reject: false, env: {NO_COLOR: '1'}, cwd: ROOT})
}

describe.skipIf(!BUILT || !HAVE_CORPUS)('nodedoc svc', () => {
  it('traces a service from a file, as JSON with the documented keys', async () => {
    const r = await svc('svc4', '-n', 'ns4', '--iptables-save', OVERALL, '-o', 'json')
    expect(r.exitCode, r.stderr).toBe(0)
    const report = JSON.parse(r.stdout)
    expect(report.services).toHaveLength(1)
    const s = report.services[0]
    for (const key of ['service', 'protocol', 'frontends', 'endpoints', 'verdict', 'problems', 'path']) expect(s).toHaveProperty(key)
    expect(s.frontends[0]).toMatchObject({kind: 'clusterIP', ip: '172.30.0.44', port: 80})
    for (const e of s.endpoints) {
      for (const key of ['ip', 'port', 'probability', 'chain', 'location', 'pod', 'route']) expect(e).toHaveProperty(key)
      expect(['local', 'remote', 'unknown']).toContain(e.location)
    }
    for (const h of s.path) expect(Object.keys(h)).toEqual(expect.arrayContaining(['table', 'chain', 'rule']))
  })

  it('finds a service by address and port, and draws it', async () => {
    const r = await svc('--ip', '172.30.0.45', '--port', '80', '--protocol', 'tcp', '--iptables-save', OVERALL, '--graph', 'mermaid')
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^flowchart LR/)
    expect(r.stdout).toContain('KUBE-SEP-I77PXRDZVX7PMWMN')
    const dot = await svc('--ip', '172.30.0.45', '--iptables-save', OVERALL, '--graph', 'dot')
    expect(dot.stdout).toMatch(/^digraph svc \{/)
  })

  it('without -n, finds the name in any namespace', async () => {
    const r = await svc('svc4', '--iptables-save', OVERALL, '-o', 'json')
    expect(r.exitCode, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).services.map((s: {service: string}) => s.service)).toEqual(['ns4/svc4:p80'])
  })

  it('lists every service port with -A', async () => {
    const r = await svc('-A', '--iptables-save', OVERALL)
    expect(r.exitCode, r.stderr).toBe(0)
    const rows = r.stdout.split('\n').filter((l) => /^ns\d\/svc\d:p80/.test(l))
    expect(rows).toHaveLength(6)
    expect(rows.find((l) => l.startsWith('ns6/'))).toMatch(/REJECT/)
  })

  it('says in one line what is missing or unreadable, and exits non-zero', async () => {
    const missing = await svc('nope', '--iptables-save', OVERALL)
    expect(missing.exitCode).toBe(1)
    expect(missing.stderr.split('\n')[0]).toMatch(/^error: service nope not found in kube-proxy's rules/)
    const elsewhere = await svc('svc4', '-n', 'default', '--iptables-save', OVERALL)
    expect(elsewhere.stderr.split('\n')[0]).toMatch(/^error: service default\/svc4 not found/)
    const unreadable = await svc('-A', '--iptables-save', join(ROOT, 'package.json'))
    expect(unreadable.exitCode).toBe(1)
    expect(unreadable.stderr.trim()).toMatch(/^error: .*package\.json: no iptables rule, chain or table in it \(\d+ text line\(s\) skipped\)$/)
    expect(unreadable.stderr).not.toMatch(/\n\s+at /)
    const absent = await svc('-A', '--iptables-save', '/nonexistent/rules.txt')
    expect(absent.exitCode).toBe(1)
    expect(absent.stderr.trim()).toBe('error: /nonexistent/rules.txt: no such file')
    const nothing = await svc()
    expect(nothing.exitCode).not.toBe(0)
  })
})

const CAPTURE = join(ROOT, 'test/fixtures/captures/k8s-114537-grep-prompts-dnat-zero.txt')

describe.skipIf(!BUILT)('nodedoc svc on a pasted capture', () => {
  it('traces it, says it is partial, names the malformed DNAT, and locates nothing on this machine', async () => {
    const all = await svc('-A', '--iptables-save', CAPTURE)
    expect(all.exitCode, all.stderr).toBe(0)
    expect(all.stdout).toMatch(/^default\/my-dep\s+tcp\s+10\.233\.60\.220:80\s+1\s+DNAT\s+1$/m)
    expect(all.stdout).toContain('Capture: partial (no *table header, lines that are not rules)')
    expect(all.stdout).toContain('skipped 3 shell prompt or command lines (first at line 1')
    const one = await svc('my-dep', '--iptables-save', CAPTURE, '-o', 'json')
    const report = JSON.parse(one.stdout)
    expect(report.partial).toEqual(['no *table header', 'lines that are not rules'])
    expect(report.services[0].endpoints[0]).toMatchObject({ip: '', port: 0, location: 'unknown', locationNote: 'rules from a file'})
    expect(report.services[0].endpoints[0].problems[0]).toMatch(/DNAT names no address/)
  })

  it("uses this machine's routes for file rules only when asked (--live-routes)", async () => {
    const here = JSON.parse((await svc('my-dep', '--iptables-save', CAPTURE, '--live-routes', '-o', 'json')).stdout)
    expect(here.services[0].endpoints[0].locationNote).toBeUndefined()
    expect(here.notes.join('\n')).not.toMatch(/rules from a file/)
  })
})
