// The one interrupt path, driven for real: a child process holding interruptOn() is sent
// SIGHUP/SIGTERM/SIGINT, has its stdout pipe closed under it, or throws with nobody catching;
// it must stop its work (the signal fires) and report why, instead of dying mid-way.
import {spawn} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import {join, resolve} from 'node:path'
import {describe, expect, it} from 'vitest'
import {tempFolder} from '../helpers/temp-folder.js'

const ROOT = resolve(__dirname, '../..')
const INTERRUPT = join(ROOT, 'dist/src/interrupt.js')

// work in steps until the signal fires, then "roll back" and say why
const WORKER = `
import {interruptOn} from ${JSON.stringify(INTERRUPT)}
const interrupt = interruptOn({uncaught: true})
const mode = process.argv[2]
process.stderr.write('ready\\n')
let steps = 0
const timer = setInterval(() => {
  steps++
  if (mode === 'output') process.stdout.write('step ' + steps + '\\n')
  if (mode === 'throw' && steps === 3) setTimeout(() => { throw new Error('nobody caught this') })
  if (interrupt.signal.aborted) {
    clearInterval(timer)
    process.stderr.write('rolled back after ' + interrupt.cause + (interrupt.error ? ': ' + interrupt.error.message : '') + '\\n')
    interrupt.dispose()
    process.exitCode = interrupt.exitCode
  }
}, 20)
`

const dir = tempFolder('nodedoc-interrupt-', () => writeFileSync(script, WORKER))
const script = join(dir, 'worker.mjs')

function worker(mode: string): Promise<{code: number | null; signal: NodeJS.Signals | null; stderr: string; child: ReturnType<typeof spawn>}> & {child: ReturnType<typeof spawn>} {
  const child = spawn(process.execPath, [script, mode], {stdio: ['ignore', 'pipe', 'pipe']})
  let stderr = ''
  child.stderr!.on('data', (c: Buffer) => (stderr += c))
  const done = new Promise<{code: number | null; signal: NodeJS.Signals | null; stderr: string; child: typeof child}>((res) => child.on('close', (code, signal) => res({code, signal, stderr, child})))
  return Object.assign(done, {child})
}

async function ready(child: ReturnType<typeof spawn>): Promise<void> {
  await new Promise<void>((res) => child.stderr!.on('data', (c: Buffer) => String(c).includes('ready') && res()))
}

describe('interruptOn', () => {
  it.each([['SIGHUP', 129], ['SIGTERM', 143], ['SIGINT', 130]] as const)('%s stops the work and rolls back (exit %d)', async (signal, exit) => {
    const run = worker('signal')
    await ready(run.child)
    run.child.kill(signal)
    const {code, stderr} = await run
    expect(stderr).toContain(`rolled back after ${signal}`)
    expect(code).toBe(exit)
  })

  it('a closed stdout (the reader went away) stops the work, no stack trace (exit 141)', async () => {
    const run = worker('output')
    await ready(run.child)
    await new Promise((r) => run.child.stdout!.once('data', r))
    run.child.stdout!.destroy()
    const {code, stderr} = await run
    expect(stderr).toContain('rolled back after closed output')
    expect(stderr).not.toMatch(/\n\s+at /)
    expect(code).toBe(141)
  })

  it('an error nobody caught stops the work and is named', async () => {
    const {code, stderr} = await worker('throw')
    expect(stderr).toContain('rolled back after uncaught error: nobody caught this')
    expect(code).toBe(70)
  })
})

describe('a command whose output is closed', () => {
  it('ends quietly (exit 141), not with a stack trace', async () => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/run.js'), 'ps', '-A', '-o', 'wide'], {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, NO_COLOR: '1'}})
    child.stdout.destroy()
    let stderr = ''
    child.stderr.on('data', (c: Buffer) => (stderr += c))
    const code = await new Promise((res) => child.on('close', res))
    expect(stderr).not.toMatch(/EPIPE|\n\s+at /)
    expect([0, 141]).toContain(code)
  })
})

describe('withInterrupt', () => {
  const listening = () => (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((s) => process.listenerCount(s))

  it('listens while the work runs and stops listening when it ends, returned or thrown', async () => {
    const {withInterrupt} = await import('../../src/interrupt.js')
    const before = listening()
    const seen = await withInterrupt(async (interrupt) => {
      expect(listening().every((n, i) => n > before[i])).toBe(true)
      return interrupt.signal.aborted
    })
    expect(seen).toBe(false)
    expect(listening()).toEqual(before)
    await expect(withInterrupt(async () => {
      throw new Error('work failed')
    })).rejects.toThrow('work failed')
    expect(listening()).toEqual(before)
  })
})
