import {spawnSync} from 'node:child_process'
import {readdirSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {startThroughShell} from '../../../src/host/spawner.js'
import {tempFolder} from '../../helpers/temp-folder.js'

const dir = tempFolder('nd-spawner-')
const env = {...process.env, LC_ALL: 'C'}

describe('runs started through one shell', () => {
  it('gives each run its own stdout, stderr and exit code, each argument as it was, and says which program is not there', async () => {
    const hostile = ['$(touch PWNED)', '`touch PWNED`', '*', 'a;touch PWNED', '"q\'', 'back\\slash', '', ' spaced ', '$IFS', '-p']
    const {runs} = startThroughShell({runs: [
      ['sh', '-c', 'printf "out\\nlines\\r\\n"; printf "err\\n" >&2; exit 3', 'one'],
      ['printf', '%s|', ...hostile],
      ['nodedoc-no-such-program', 'x'],
      ['sh', '-c', 'ls /proc/self/fd | sort -n | tr "\\n" " "; exit 0'],
    ]}, {...env, PWD: dir}, 10_000, 1 << 20)!
    expect(runs).toHaveLength(4)
    const [a, b, c, d] = await Promise.all(runs.map((r) => r.done))
    expect(a).toEqual({stdout: 'out\nlines', stderr: 'err', exitCode: 3, timedOut: false})
    expect(b).toEqual({stdout: hostile.map((arg) => `${arg}|`).join(''), stderr: '', exitCode: 0, timedOut: false})
    expect(c).toBeUndefined()
    // no other run's pipe (the shell hands them out as 3 to 10; 3 is ls's own listing)
    expect(d?.stdout.split(' ').map(Number).filter((fd) => fd >= 4 && fd <= 10)).toEqual([])
    expect(readdirSync(dir)).toEqual([])
    expect(readdirSync(process.cwd())).not.toContain('PWNED')
  })

  it("answers a quick run while a slow one still runs (no run holds another's pipes)", async () => {
    const started = Date.now()
    const [slow, quick] = startThroughShell({runs: [['sleep', '1.5'], ['echo', 'quick']]}, env, 10_000, 1 << 20)!.runs
    expect((await quick.done)?.stdout).toBe('quick')
    expect(Date.now() - started).toBeLessThan(1200)
    expect((await slow.done)?.exitCode).toBe(0)
  })

  it('kills a run past its time-out, and gives no answer for output past the cap', async () => {
    const tag = `${60 + Math.floor(Math.random() * 1000)}.${process.pid}`
    const [late, big] = startThroughShell({runs: [['sleep', tag], ['sh', '-c', 'printf 0123456789; exec sleep 5']]}, env, 300, 4)!.runs
    expect(await late.done).toMatchObject({timedOut: true, exitCode: 1})
    expect(await big.done).toBeNull()
    expect(spawnSync('pgrep', ['-f', `^sleep ${tag}$`]).status).toBe(1)
  })

  it('runs a lister in a process group of its own, fed on its stdin, each argument as it was, and ends the group when killed', async () => {
    const hostile = ['$(touch PWNED)', '`touch PWNED`', '*', 'a;touch PWNED', ' spaced ']
    const tag = `${60 + Math.floor(Math.random() * 1000)}.${process.pid}`
    const lister = ['sh', '-c', 'printf "%s|" "$@"; echo; while read -r l; do echo "got $l"; if [ "$l" = sleep ]; then sleep "$0"; fi; done', tag, ...hostile]
    const {feeds, runs} = startThroughShell({feeds: [lister, lister], runs: [['echo', 'run']]}, {...env, PWD: dir}, 10_000, 1 << 20)!
    const outs = feeds.map((feed) => {
      feed.hold(true)
      let out = ''
      feed.stdout.setEncoding('utf8')
      feed.stdout.on('data', (chunk: string) => (out += chunk))
      return () => out
    })
    feeds[0].stdin.write('one\n')
    feeds[0].stdin.end('two\n')
    feeds[1].stdin.write('sleep\n')
    expect(await feeds[0].done).toBe(0)
    expect(outs[0]()).toBe(`${hostile.map((arg) => `${arg}|`).join('')}\ngot one\ngot two\n`)
    expect((await runs[0].done)?.stdout).toBe('run')
    // the lister and the sleep it waits for, both in its group
    while (!outs[1]().includes('got sleep') || spawnSync('pgrep', ['-f', `^sleep ${tag}$`]).status !== 0) await new Promise((r) => setTimeout(r, 20))
    feeds[1].kill()
    expect(await feeds[1].done).toBeNull()
    expect(spawnSync('pgrep', ['-f', `^sleep ${tag}$`]).status).toBe(1)
    expect(readdirSync(dir)).toEqual([])
    expect(readdirSync(process.cwd())).not.toContain('PWNED')
  })

  it('is not used where bash is not there, for a single run, or for an argument holding a line break', () => {
    expect(startThroughShell({runs: [['echo', 'a'], ['echo', 'b']]}, {PATH: dir}, 10_000, 1 << 20)).toBeUndefined()
    expect(startThroughShell({runs: [['echo', 'a']]}, env, 10_000, 1 << 20)).toBeUndefined()
    expect(startThroughShell({runs: [['echo', 'a\nb'], ['echo', 'b']]}, env, 10_000, 1 << 20)).toBeUndefined()
  })
})
