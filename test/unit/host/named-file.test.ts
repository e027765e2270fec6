// Files named on the command line (--iptables-save, --nft, --ipvsadm): a device would be read
// without end, a FIFO with no writer would hang. Both are refused unread, in one line.
import {execFileSync} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import {join, resolve} from 'node:path'
import {execa} from 'execa'
import {describe, expect, it} from 'vitest'
import {tempFolder} from '../../helpers/temp-folder.js'

const ROOT = resolve(__dirname, '../../..')
const dir = tempFolder('nodedoc-named-', () => {
  execFileSync('mkfifo', [fifo])
  writeFileSync(rules, '*nat\n:KUBE-SERVICES - [0:0]\nCOMMIT\n')
})
const fifo = join(dir, 'rules.fifo')
const rules = join(dir, 'rules.txt')

const svc = (args: string[], input?: string) =>
  execa(process.execPath, [join(ROOT, 'bin/run.js'), 'svc', '-A', ...args], {reject: false, timeout: 20_000, input, env: {NO_COLOR: '1', NODE_ENV: 'production'}})

describe('rules files', () => {
  it.each([
    ['--iptables-save', '/dev/zero', '/dev/zero: not a regular file (char device); give a file, or - for stdin'],
    ['--nft', fifo, `${fifo}: not a regular file (fifo); give a file, or - for stdin`],
    ['--ipvsadm', dir, `${dir}: not a regular file (dir); give a file, or - for stdin`],
    ['--iptables-save', join(dir, 'missing'), `${join(dir, 'missing')}: no such file`],
  ])('%s %s is refused at once, in one line', async (flag, file, message) => {
    const started = performance.now()
    const r = await svc([flag, file])
    expect(r.timedOut).toBe(false)
    expect(performance.now() - started).toBeLessThan(15_000)
    expect(r.exitCode).toBe(1)
    expect(String(r.stderr).trim()).toBe(`error: ${message}`)
  })

  it('reads a regular file, and stdin with -', async () => {
    const fromFile = await svc(['--iptables-save', rules, '-o', 'json'])
    expect(fromFile.exitCode, String(fromFile.stderr)).toBe(0)
    const fromStdin = await svc(['--iptables-save', '-', '-o', 'json'], readFileSyncText(rules))
    expect(fromStdin.exitCode, String(fromStdin.stderr)).toBe(0)
    expect(JSON.parse(String(fromStdin.stdout)).mode).toBe(JSON.parse(String(fromFile.stdout)).mode)
  })
})

function readFileSyncText(path: string): string {
  return execFileSync('cat', [path], {encoding: 'utf8'})
}
