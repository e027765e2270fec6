import {describe, expect, it} from 'vitest'
import {CriLineWriter, exitRecord, rfc3339Nano} from '../../../src/write/sandbox-shim.js'

describe('CRI log lines', () => {
  it('prints RFC3339Nano like Go: trailing zeros dropped', () => {
    expect(rfc3339Nano(1764118923123456789n)).toBe('2025-11-26T01:02:03.123456789Z')
    expect(rfc3339Nano(1764118923120000000n)).toBe('2025-11-26T01:02:03.12Z')
    expect(rfc3339Nano(1764118923000000000n)).toBe('2025-11-26T01:02:03Z')
  })
  it('splits chunks into F lines, long ones into P pieces, and flushes at EOF', () => {
    const lines: string[] = []
    const w = new CriLineWriter('stderr', (l) => lines.push(l), () => 1764118923000000001n)
    w.push('hello\nwor')
    w.push('ld\n')
    w.push('x'.repeat(16 * 1024 + 3))
    w.push('\nno newline')
    w.end()
    const t = '2025-11-26T01:02:03.000000001Z'
    expect(lines).toEqual([
      `${t} stderr F hello\n`,
      `${t} stderr F world\n`,
      `${t} stderr P ${'x'.repeat(16 * 1024)}\n`,
      `${t} stderr F xxx\n`,
      `${t} stderr F no newline\n`,
    ])
  })
  it("reads the shim's status line: the exit code as said (128+N for a kill, as runc says it), N named as the signal, nothing as unknown", () => {
    const at = new Date('2026-12-01T18:00:00.000Z')
    expect(exitRecord('0', at)).toEqual({exitCode: 0, signal: null, finishedAt: '2026-12-01T18:00:00.000Z'})
    expect(exitRecord('125', at)).toMatchObject({exitCode: 125, signal: null})
    expect(exitRecord('137', at)).toMatchObject({exitCode: 137, signal: 'SIGKILL'})
    expect(exitRecord('143', at)).toMatchObject({exitCode: 143, signal: 'SIGTERM'})
    expect(exitRecord('200', at)).toMatchObject({exitCode: 200, signal: null})
    expect(exitRecord('', at)).toMatchObject({exitCode: null, signal: null})
  })
})
