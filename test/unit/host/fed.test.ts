import {describe, expect, it} from 'vitest'
import {spawnFed} from '../../../src/host/fed.js'

describe('spawnFed', () => {
  it('runs each command GNU xargs has its arguments for as they arrive on the pipe, not at its end', async () => {
    const out: string[] = []
    let exited: (code: number | null | undefined) => void = () => undefined
    const exit = new Promise<number | null | undefined>((resolve) => (exited = resolve))
    let next: () => void = () => undefined
    const stream = spawnFed(['xargs', '-0', '-n', '2', 'echo'], {
      stdout: (chunk) => {
        out.push(chunk)
        next()
      },
      exit: (code) => exited(code),
    })
    const answer = () => new Promise<void>((resolve) => (next = resolve))
    let answered = answer()
    stream.write('one\0two\0')
    await answered
    expect(out.join('')).toBe('one two\n')
    answered = answer()
    stream.write('three\0four\0')
    await answered
    expect(out.join('')).toBe('one two\nthree four\n')
    // its input ended, xargs ends by itself
    stream.close()
    expect(await exit).toBe(0)
    // a write after the end is dropped, not an error
    stream.write('five\0six\0')
    stream.close()
  })

  it('says a program that is not there could not start', async () => {
    const code = await new Promise((resolve) => {
      const stream = spawnFed(['nodedoc-no-such-program'], {stdout: () => undefined, exit: resolve})
      stream.write('x')
    })
    expect(code).toBeUndefined()
  })

  it('ends a program that keeps running a moment after its input is closed, and at once when killed', async () => {
    const started = Date.now()
    const code = await new Promise((resolve) => {
      const stream = spawnFed(['sleep', '60'], {stdout: () => undefined, exit: resolve})
      stream.close()
    })
    expect(code).toBeNull()
    expect(Date.now() - started).toBeGreaterThanOrEqual(900)
    const killed = await new Promise((resolve) => {
      const stream = spawnFed(['sleep', '60'], {stdout: () => undefined, exit: resolve})
      stream.kill()
    })
    expect(killed).toBeNull()
  })
})

describe('spawnFed, the runs it started', () => {
  it('ends the run in progress with its xargs when killed', async () => {
    // a sleep no one else runs, to look for afterwards
    const seconds = `${60 + Math.floor(Math.random() * 1000)}.${process.pid}`
    const stream = spawnFed(['xargs', '-0', '-n', '1', 'sleep'], {stdout: () => undefined, exit: () => undefined})
    stream.write(`${seconds}\0`)
    const running = async () => (await import('node:child_process')).spawnSync('pgrep', ['-f', `^sleep ${seconds}$`]).status === 0
    for (let i = 0; i < 50 && !(await running()); i++) await new Promise((r) => setTimeout(r, 20))
    expect(await running()).toBe(true)
    stream.kill()
    for (let i = 0; i < 50 && (await running()); i++) await new Promise((r) => setTimeout(r, 20))
    expect(await running()).toBe(false)
  })
})
