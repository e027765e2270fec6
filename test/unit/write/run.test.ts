import {execa} from 'execa'
import {describe, expect, it} from 'vitest'
import {run, runProgram} from '../../../src/write/run.js'

/** execa's answer for the same run, in the fields a sandbox step reads. */
async function byExeca(argv: string[], options: {input?: string; timeoutMs?: number} = {}) {
  const io = options.input === undefined ? {stdin: 'ignore' as const} : {input: options.input}
  const r = await execa(argv[0], argv.slice(1), {reject: false, ...io, ...(options.timeoutMs ? {timeout: options.timeoutMs} : {}), env: {LC_ALL: 'C'}})
  return {failed: r.failed, exitCode: r.exitCode, signal: r.signal, code: (r as {code?: string}).code, stdout: r.stdout, stderr: r.stderr, shortMessage: r.failed ? r.shortMessage ?? '' : ''}
}

// the sandbox's programs ran through execa until they had a runner of their own: a step's error
// line is made of the same fields, so they must read the same
describe('runProgram answers as execa did', () => {
  const cases: Array<[string, string[], {input?: string; timeoutMs?: number}?]> = [
    ['success with output', ['sh', '-c', 'echo out; echo err >&2']],
    ['a silent failure', ['sh', '-c', 'exit 3']],
    ['a failure that says why', ['sh', '-c', 'echo "mount: /x: not mounted." >&2; exit 32']],
    ['a program that is not there', ['/nonexistent/nodedoc-program', 'a']],
    ['arguments execa quotes', ['sh', '-c', 'exit 1', "it's", 'a b', 'plain/path-1.0']],
    ['a program killed by a signal', ['sh', '-c', 'kill -TERM $$']],
    ['stdin from a string', ['cat'], {input: 'line 1\nline 2\n'}],
    ['a program that exits before reading its input', ['true'], {input: 'x'.repeat(1 << 20)}],
    ['the locale', ['sh', '-c', 'echo $LC_ALL']],
    ['a time-out', ['sleep', '5'], {timeoutMs: 200}],
  ]
  for (const [what, argv, options] of cases) {
    it(what, async () => {
      const ours = await runProgram(argv, options)
      const theirs = await byExeca(argv, options)
      expect({...ours, shortMessage: ours.shortMessage.split('\n')[0]}).toEqual({...theirs, shortMessage: theirs.shortMessage.split('\n')[0]})
    })
  }
})

describe('run', () => {
  it('names the program and its first line of complaint', async () => {
    await expect(run(['sh', '-c', 'echo "first\nsecond" >&2; exit 1'])).rejects.toThrow(/^sh -c echo "first\nsecond" >&2; exit 1: first$/)
    await expect(run(['sh', '-c', 'exit 4'])).rejects.toThrow("sh -c exit 4: Command failed with exit code 4: sh -c 'exit 4'")
    await expect(run(['/nonexistent/nodedoc-program'])).rejects.toThrow('/nonexistent/nodedoc-program: not installed')
    await expect(run(['cat'], 'in')).resolves.toBeUndefined()
  })
})
