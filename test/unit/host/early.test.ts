import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {startEarly, takeFeed, takeFile, takeRun, takeStream} from '../../../src/host/early.js'
import {spawnFed} from '../../../src/host/fed.js'
import {LiveHost} from '../../../src/host/live.js'
import {tempFolder} from '../../helpers/temp-folder.js'

const dir = tempFolder('nd-early-')

/** A program printing on both streams and exiting 3, whose argv is unique to the test that asks. */
const program = (tag: string) => ['sh', '-c', 'printf "out\\nlines\\r\\n"; printf "err\\n" >&2; exit 3', tag]

describe('programs started early', () => {
  it('run(): the early answer, once, as run() gives it without one; then run() starts its own', async () => {
    const argv = program('run')
    startEarly({runs: [{argv}]})
    const host = new LiveHost()
    const early = await host.run(argv)
    expect(early).toEqual({stdout: 'out\nlines', stderr: 'err', exitCode: 3})
    expect(takeRun(argv, 10_000)).toBeUndefined()
    expect(await host.run(argv)).toEqual(early)
  })

  it('run(): a program that is not there is undefined, as without an early start; another time-out or an input is not taken', async () => {
    const missing = ['nodedoc-no-such-program', 'early']
    startEarly({runs: [{argv: missing}, {argv: program('timeout')}]})
    expect(await new LiveHost().run(missing)).toBeUndefined()
    expect(takeRun(program('timeout'), 5000)).toBeUndefined()
    expect(await takeRun(program('timeout'), 10_000)).toMatchObject({exitCode: 3})
  })

  it('starts nothing whose condition does not hold (an empty or missing names file, a path not there)', () => {
    const empty = join(dir, 'empty')
    const listed = join(dir, 'listed')
    writeFileSync(empty, '\n')
    writeFileSync(listed, 'nat\n')
    startEarly({
      runs: [
        {argv: program('empty'), whenListed: empty},
        {argv: program('missing'), whenListed: join(dir, 'absent')},
        {argv: program('no-path'), whenExists: join(dir, 'absent')},
        {argv: program('listed'), whenListed: listed},
        {argv: program('unless-empty'), unlessListed: empty},
        {argv: program('unless-missing'), unlessListed: join(dir, 'absent')},
        {argv: program('unless-listed'), unlessListed: listed},
        {argv: program('table-listed'), whenListed: listed, whenTable: 'nat'},
        {argv: program('table-not-listed'), whenListed: listed, whenTable: 'filter'},
        {argv: program('table-in-a-word'), whenListed: listed, whenTable: 'na'},
      ],
    })
    expect(takeRun(program('table-listed'), 10_000)).toBeDefined()
    expect(takeRun(program('table-not-listed'), 10_000)).toBeUndefined()
    expect(takeRun(program('table-in-a-word'), 10_000)).toBeUndefined()
    expect(takeRun(program('empty'), 10_000)).toBeUndefined()
    expect(takeRun(program('missing'), 10_000)).toBeUndefined()
    expect(takeRun(program('no-path'), 10_000)).toBeUndefined()
    expect(takeRun(program('listed'), 10_000)).toBeDefined()
    expect(takeRun(program('unless-empty'), 10_000)).toBeDefined()
    expect(takeRun(program('unless-missing'), 10_000)).toBeDefined()
    expect(takeRun(program('unless-listed'), 10_000)).toBeUndefined()
  })

  it('readFile(): a condition\'s file as the launcher read it before it started anything, once; then the file as it is', async () => {
    const names = join(dir, 'names')
    writeFileSync(names, 'nat\n')
    startEarly({runs: [{argv: program('file'), whenListed: names}, {argv: program('file-missing'), whenListed: join(dir, 'absent-names')}]})
    writeFileSync(names, 'filter\n')
    const host = new LiveHost()
    expect(await host.readFile(names)).toBe('nat\n')
    expect(await host.readFile(names)).toBe('filter\n')
    // unreadable then: nothing kept, read as without the launcher
    expect(takeFile(join(dir, 'absent-names'))).toBeUndefined()
    // under another root, never the launcher's read
    startEarly({runs: [{argv: program('file-root'), whenListed: names}]})
    expect(await new LiveHost(dir).readFile('/names')).toBe('filter\n')
    expect(takeFile(names)).toBe('filter\n')
  })

  it('stream(): what came before it was taken, then the rest, counted against the cap', async () => {
    const argv = ['sh', '-c', 'printf "first\\n"; sleep 0.2; printf "second\\n"', 'stream']
    startEarly({streams: [{argv, timeoutMs: 60_000}]})
    await new Promise((r) => setTimeout(r, 100))
    const pieces: string[] = []
    const result = await new LiveHost().stream(argv, (chunk) => pieces.push(chunk.toString()), {maxBytes: 1 << 20, timeoutMs: 60_000})
    expect(result).toEqual({stderr: '', exitCode: 0})
    expect(pieces.join('')).toBe('first\nsecond\n')
    expect(takeStream(argv, 60_000, () => undefined)).toBeUndefined()
    const capped = ['sh', '-c', 'printf "0123456789"; exec sleep 5', 'cap']
    startEarly({streams: [{argv: capped, timeoutMs: 60_000}]})
    const started = Date.now()
    await expect(new LiveHost().stream(capped, () => undefined, {maxBytes: 4, timeoutMs: 60_000})).rejects.toThrow(/more than/)
    // stopped at the cap, not waited for
    expect(Date.now() - started).toBeLessThan(4000)
  })

  it('feed(): the writes made early are not made twice, and their answers come to the taker', async () => {
    const argv = ['xargs', '-0', '-n', '2', 'echo', 'feed']
    startEarly({feeds: [{argv, writes: ['a\0b\0']}]})
    const out: string[] = []
    let exited!: (code: number | null | undefined) => void
    const exit = new Promise<number | null | undefined>((resolve) => (exited = resolve))
    const fed = spawnFed(argv, {stdout: (chunk) => out.push(chunk), exit: (code) => exited(code)})
    fed.write('a\0b\0')
    fed.write('c\0d\0')
    fed.close()
    expect(await exit).toBe(0)
    expect(out.join('')).toBe('feed a b\nfeed c d\n')
    expect(takeFeed(argv)).toBeUndefined()
  })

  it('feed(): an early answer reaches the taker only once it has made the write it answers, however late', async () => {
    const argv = ['xargs', '-0', '-n', '2', 'echo', 'late']
    startEarly({feeds: [{argv, writes: ['a\0b\0']}], runs: [{argv: ['true']}, {argv: ['true', 'x']}]})
    const out: string[] = []
    let exited!: (code: number | null | undefined) => void
    const exit = new Promise<number | null | undefined>((resolve) => (exited = resolve))
    const fed = spawnFed(argv, {stdout: (chunk) => out.push(chunk), exit: (code) => exited(code)})
    // the answer is in by now; the taker asks two turns of the loop later
    await new Promise((r) => setTimeout(r, 300))
    expect(out).toEqual([])
    fed.write('a\0b\0')
    fed.write('c\0d\0')
    fed.close()
    expect(await exit).toBe(0)
    expect(out.join('')).toBe('late a b\nlate c d\n')
  })

  it('feed(): one marked first is started first, and taken in the order of the plan', () => {
    const argv = ['xargs', '-0', '-n', '2', 'echo', 'order']
    startEarly({feeds: [{argv, writes: ['a\0b\0']}, {argv, writes: ['c\0d\0'], first: true}]})
    const one = takeFeed(argv)!
    const two = takeFeed(argv)!
    expect([one.pending, two.pending]).toEqual([['a\0b\0'], ['c\0d\0']])
    for (const feed of [one, two]) feed.kill()
  })

  it('feed(): a taker that writes something else gets no answer and an end, never the early answers', async () => {
    const argv = ['xargs', '-0', '-n', '2', 'echo', 'other']
    startEarly({feeds: [{argv, writes: ['a\0b\0']}]})
    const out: string[] = []
    let exited!: (code: number | null | undefined) => void
    const exit = new Promise<number | null | undefined>((resolve) => (exited = resolve))
    const fed = spawnFed(argv, {stdout: (chunk) => out.push(chunk), exit: (code) => exited(code)})
    fed.write('c\0d\0')
    expect(await exit).toBeUndefined()
    await new Promise((r) => setTimeout(r, 100))
    expect(out).toEqual([])
  })
})
