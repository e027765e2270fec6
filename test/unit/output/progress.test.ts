import {PassThrough} from 'node:stream'
import {describe, expect, it} from 'vitest'
import {spinnerAllowed, withProgress} from '../../../src/output/progress.js'

/** A stream that says it is (or is not) a terminal and keeps what was written. */
function stream(isTTY: boolean) {
  const s = new PassThrough() as unknown as NodeJS.WriteStream & {text: () => string}
  let written = ''
  s.write = ((chunk: string) => {
    written += chunk
    return true
  }) as typeof s.write
  Object.assign(s, {isTTY, columns: 80, text: () => written})
  return s
}

const wait = (ms: number) => new Promise((done) => setTimeout(done, ms))

describe('withProgress', () => {
  it('draws nothing when the output is not a terminal', async () => {
    const out = stream(false)
    expect(await withProgress('snapshot', async () => (await wait(60), 42), {stream: out, delayMs: 0})).toBe(42)
    expect(out.text()).toBe('')
  })

  it('draws nothing for a step that ends before the delay', async () => {
    const out = stream(true)
    await withProgress('quick', async () => wait(5), {stream: out, delayMs: 200})
    expect(out.text()).toBe('')
  })

  it('spins on a terminal for a long step, shows updates, and erases its line, even on failure', async () => {
    const out = stream(true)
    const env = process.env.CI
    delete process.env.CI
    try {
      await expect(withProgress('sandbox create', async (p) => {
        await wait(120)
        p.update('starting container')
        await wait(120)
        throw new Error('runc failed')
      }, {stream: out, delayMs: 20})).rejects.toThrow('runc failed')
    } finally {
      if (env !== undefined) process.env.CI = env
    }
    expect(out.text()).toMatch(/\r\x1b\[2K⠋ sandbox create/)
    expect(out.text()).toMatch(/starting container/)
    expect(out.text().endsWith('\r\x1b[2K')).toBe(true)
  })

  it('draws an update at once when asked, before a step that holds the event loop', async () => {
    const out = stream(true)
    const env = process.env.CI
    delete process.env.CI
    try {
      await withProgress('svc', async (p) => {
        p.update('tracing 182909 rules', true)
        // what a long synchronous step leaves the terminal showing meanwhile
        expect(out.text()).toMatch(/\r\x1b\[2K⠋ tracing 182909 rules/)
      }, {stream: out, delayMs: 10_000})
    } finally {
      if (env !== undefined) process.env.CI = env
    }
    expect(out.text().endsWith('\r\x1b[2K')).toBe(true)
    const piped = stream(false)
    await withProgress('svc', async (p) => p.update('tracing', true), {stream: piped})
    expect(piped.text()).toBe('')
  })

  it('stays off under CI, NODEDOC_NO_PROGRESS or a dumb terminal', () => {
    expect(spinnerAllowed(stream(true), {})).toBe(true)
    expect(spinnerAllowed(stream(true), {CI: 'true'})).toBe(false)
    expect(spinnerAllowed(stream(true), {NODEDOC_NO_PROGRESS: '1'})).toBe(false)
    expect(spinnerAllowed(stream(true), {TERM: 'dumb'})).toBe(false)
    expect(spinnerAllowed(stream(false), {})).toBe(false)
  })
})
