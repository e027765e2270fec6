import {spawnSync} from 'node:child_process'
import {readdirSync, readFileSync, readlinkSync} from 'node:fs'
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

/** The pids of the processes running `sleep TAG`, once there are `count` of them. */
async function sleepers(tag: string, count: number): Promise<number[]> {
  for (;;) {
    const found = spawnSync('pgrep', ['-f', `^sleep ${tag}`], {encoding: 'utf8'}).stdout.split('\n').filter(Boolean).map(Number)
    if (found.length >= count) return found
    await new Promise((r) => setTimeout(r, 20))
  }
}

// what any child of this process holds past 0-2, the spawner or not (what the test runner left open)
const inherited = spawnSync('sh', ['-c', 'cd /proc/$$/fd && for fd in *; do [ "$fd" -gt 2 ] && echo "$fd $(readlink "$fd")"; done'], {encoding: 'utf8'}).stdout.split('\n').filter(Boolean)

/** The script's own names in the environment: the shell must set each before it reads it. */
const shellNames = Object.fromEntries(['w', 'all', 'c', 'i', 'k', 'o', 'e', 'p', 's', 'last'].map((name) => [name, '$(touch PWNED) 9>&-']))

const parentOf = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1])

// bash 5.1 and later start each program from the shell itself; `subshells` forces the older
// bash's way, a subshell between, which must keep working where bash is older
describe.each([
  {way: 'from the shell itself', subshells: false},
  {way: 'through a subshell each (bash before 5.1)', subshells: true},
])('runs and listers started $way', ({subshells}) => {
  it('leaves each program no descriptor but its own stdin, stdout and stderr, none another start holds', async () => {
    const tag = `${60 + Math.floor(Math.random() * 1000)}.${process.pid}`
    const {feeds, runs} = startThroughShell({feeds: [['sleep', `${tag}1`]], runs: [['sleep', `${tag}2`], ['sleep', `${tag}3`], ['echo', 'quick']]}, env, 10_000, 1 << 20, {subshells})!
    let pids: number[] = []
    try {
      pids = await sleepers(tag, 3)
      const seen = new Map<string, number>()
      for (const pid of pids) {
        const fds = readdirSync(`/proc/${pid}/fd`).filter((fd) => !inherited.includes(`${fd} ${readlinkSync(`/proc/${pid}/fd/${fd}`)}`))
        expect(fds.sort()).toEqual(['0', '1', '2'])
        for (const fd of fds) {
          const target = readlinkSync(`/proc/${pid}/fd/${fd}`)
          if (target === '/dev/null') continue
          // Node's pipes (sockets): one in two programs would keep its reader waiting on both
          expect(seen.get(target) ?? pid).toBe(pid)
          seen.set(target, pid)
        }
        // no subshell between the shell Node started and the program where bash can
        expect(parentOf(parentOf(pid)) === process.pid).toBe(!subshells)
      }
      expect(seen.size).toBe(6)
      expect((await runs[2].done)?.stdout).toBe('quick')
    } finally {
      // by pid: a kill() before the shell has said a run's pid ends the shell's whole group
      for (const pid of pids) process.kill(pid, 'SIGTERM')
      if (pids.length < 3) for (const start of [...runs, ...feeds]) start.kill()
    }
    expect(await Promise.all(runs.slice(0, 2).map(async (run) => (await run.done)?.exitCode))).toEqual([1, 1])
    expect(await feeds[0].done).toBeNull()
    expect(spawnSync('pgrep', ['-f', `^sleep ${tag}`]).status).toBe(1)
  })

  it('says each exit status as the program ends, a run killed by a signal as exit code 1 and a lister as null, while another still runs', async () => {
    const tag = `${60 + Math.floor(Math.random() * 1000)}.${process.pid}`
    const quick = Array.from({length: 10}, (_, i) => (i % 3 === 2 ? ['sh', '-c', 'kill -TERM $$'] : ['sh', '-c', `exit ${i % 3 === 0 ? 0 : 3}`]))
    const started = Date.now()
    // options from the environment, which -p keeps out, bash's posix mode, which it does not, and
    // the script's names
    const {feeds, runs} = startThroughShell({
      feeds: [['sleep', tag], ['sh', '-c', 'exit 0'], ['sh', '-c', 'exit 3'], ['sh', '-c', 'kill -TERM $$']],
      runs: quick,
    }, {...env, PWD: dir, SHELLOPTS: 'errexit:nounset:pipefail', BASHOPTS: 'failglob', POSIXLY_CORRECT: '1', ...shellNames}, 10_000, 1 << 20, {subshells})!
    try {
      // every one that ended is told while the sleep still runs (a status told only once every
      // start has ended would hold them all)
      const codes = await Promise.all(runs.map(async (run) => (await run.done)?.exitCode))
      expect(codes).toEqual(quick.map((_, i) => (i % 3 === 0 ? 0 : i % 3 === 1 ? 3 : 1)))
      expect(await Promise.all(feeds.slice(1).map((feed) => feed.done))).toEqual([0, 3, null])
      expect(Date.now() - started).toBeLessThan(3000)
      expect(await sleepers(tag, 1)).toHaveLength(1)
    } finally {
      feeds[0].kill()
    }
    expect(await feeds[0].done).toBeNull()
    expect(spawnSync('pgrep', ['-f', `^sleep ${tag}$`]).status).toBe(1)
  })

  it("keeps every argument as it was and says which program is not there, whatever the environment holds under the script's names", async () => {
    const hostile = ['$(touch PWNED)', '`touch PWNED`', '*', 'a;touch PWNED', '"q\'', "'", '&', '>&-', '9>&-', '$@', '"$@"', '', ' spaced ']
    const {runs, feeds} = startThroughShell({feeds: [['sh', '-c', 'printf "%s|" "$@"', 'x', ...hostile]], runs: [['printf', '%s|', ...hostile], ['nodedoc-no-such-program', ...hostile]]}, {...env, PWD: dir, ...shellNames}, 10_000, 1 << 20, {subshells})!
    let out = ''
    feeds[0].stdout.setEncoding('utf8')
    feeds[0].stdout.on('data', (chunk: string) => (out += chunk))
    expect(await feeds[0].done).toBe(0)
    expect(out).toBe(hostile.map((arg) => `${arg}|`).join(''))
    expect(await runs[0].done).toEqual({stdout: hostile.map((arg) => `${arg}|`).join(''), stderr: '', exitCode: 0, timedOut: false})
    expect(await runs[1].done).toBeUndefined()
    expect(readdirSync(dir)).toEqual([])
    expect(readdirSync(process.cwd())).not.toContain('PWNED')
  })
})
