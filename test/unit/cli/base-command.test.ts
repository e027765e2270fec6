import {execa} from 'execa'
import {describe, expect, it} from 'vitest'

// bad input: one line naming what is wrong, a non-zero exit, no stack trace
describe('refused input', () => {
  it.each([
    [['pod', 'x', '-o', 'bogus'], /^error: unknown output format "bogus"; use one of table, wide, json, yaml, name, jsonpath=TEMPLATE, custom-columns=SPEC$/],
    [['ps', '-o', 'custom-columns=PID'], /^error: -o custom-columns: "PID" is not HEADER:\.path$/],
    [['ps', '-o', 'jsonpath={range .items[*]}'], /^error: jsonpath template: \{range\} without \{end\}$/],
    [['pod', '--nope'], /^error: Nonexistent flag: --nope \(see --help\)$/],
    [['snapshot'], /^error: Missing required flag output \(see --help\)$/],
    [['pod', 'x', '--from', '/nonexistent-snapshot'], /^error: \/nonexistent-snapshot: no such snapshot folder or archive$/],
    [['pod', 'x', '--from', '/proc/self'], /^error: \/proc\/self: no meta.json, not a nodedoc snapshot$/],
  ])('nodedoc %j', async (args, message) => {
    const result = await execa('node', ['bin/run.js', ...args], {reject: false, env: {NO_COLOR: '1', NODE_ENV: 'production'}}) // vitest's NODE_ENV=test makes oclif add developer warnings
    expect(result.exitCode).not.toBe(0)
    // usage errors exit 2, a node (snapshot) that cannot be read 3
    expect(result.exitCode).toBe(args.includes('--from') ? 3 : 2)
    expect(result.stderr.trim().split('\n'), result.stderr).toHaveLength(1)
    expect(result.stderr.trim()).toMatch(message)
  })
})
