import {execa} from 'execa'
import {describe, expect, it} from 'vitest'

// bad input: one line naming what is wrong, a non-zero exit, no stack trace
describe('refused input', () => {
  it.each([
    [['pod', 'x', '-o', 'bogus'], /^error: Expected --output=bogus to be one of: table, wide, json, yaml \(see --help\)$/],
    [['pod', '--nope'], /^error: Nonexistent flag: --nope \(see --help\)$/],
    [['snapshot'], /^error: Missing required flag output \(see --help\)$/],
    [['pod', 'x', '--from', '/nonexistent-snapshot'], /^error: \/nonexistent-snapshot: no meta.json, not a nodedoc snapshot$/],
  ])('nodedoc %j', async (args, message) => {
    const result = await execa('node', ['bin/run.js', ...args], {reject: false, env: {NO_COLOR: '1', NODE_ENV: 'production'}}) // vitest's NODE_ENV=test makes oclif add developer warnings
    expect(result.exitCode).not.toBe(0)
    expect(result.stderr.trim().split('\n'), result.stderr).toHaveLength(1)
    expect(result.stderr.trim()).toMatch(message)
  })
})
