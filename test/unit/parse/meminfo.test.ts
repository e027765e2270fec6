import {execFileSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {parseMemTotal} from '../../../src/parse/meminfo.js'

describe('parseMemTotal', () => {
  it("reads this machine's /proc/meminfo as free -b (procps) does", () => {
    const total = Number(execFileSync('free', ['-b'], {encoding: 'utf8'}).split('\n')[1].split(/\s+/)[1])
    expect(parseMemTotal(readFileSync('/proc/meminfo', 'utf8'))).toBe(total)
  })
  it('is undefined without a MemTotal line', () => {
    expect(parseMemTotal('MemFree:  1 kB\n')).toBeUndefined()
    expect(parseMemTotal('')).toBeUndefined()
  })
})
