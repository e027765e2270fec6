// The direct path's reading of sandbox create's flags against oclif's own: the flag table must
// say what the SandboxCreate class's flags say, and every argv it takes must parse to what
// oclif's parser makes of it; every other argv is left to oclif.
import {Parser} from '@oclif/core'
import {afterEach, describe, expect, it} from 'vitest'
import SandboxCreate from '../../../commands/sandbox/create.js'
import {COMMANDS} from '../../../commands/index.js'
import {directRun} from '../../../src/cli/direct-sandbox.js'
import {parsePlain} from '../../../src/cli/plain-argv.js'
import {SANDBOX_CREATE_FLAGS} from '../../../src/cli/sandbox-create.js'

const flags = {...SandboxCreate.baseFlags, ...SandboxCreate.flags} as Record<string, Record<string, unknown>>
const HELP_ONLY = new Set(['description', 'summary', 'helpGroup', 'helpLabel', 'helpValue', 'hidden', 'noCacheDefault', 'name'])

describe("the direct path knows sandbox create's flags as oclif does", () => {
  it('has every flag of the SandboxCreate class, with the same type, letter, variable and default, and no argument', () => {
    expect(Object.keys(SANDBOX_CREATE_FLAGS).sort()).toEqual(Object.keys(flags).sort())
    for (const [name, flag] of Object.entries(flags)) {
      const mine = SANDBOX_CREATE_FLAGS[name]
      expect({name, boolean: flag.type === 'boolean', char: flag.char, env: flag.env, default: flag.default}).toEqual({name, boolean: mine.boolean === true, char: mine.char, env: mine.env, default: mine.default})
      // what the direct path reads besides: options and min (its checks, below), required (-f)
      const known = new Set([...HELP_ONLY, 'parse', 'input', 'type', 'char', 'env', 'default', 'multiple', 'allowNo', 'options', 'min', 'required'])
      expect(Object.keys(flag).filter((k) => !known.has(k) && flag[k] !== undefined), name).toEqual([])
      expect(flag.multiple ?? false, name).toBe(false)
      expect(flag.allowNo ?? false, name).toBe(false)
      expect(flag.required ?? false, name).toBe(name === 'filename')
      // a flag with options or a minimum is checked by the direct path
      if (flag.options || flag.min !== undefined) expect(mine.check, name).toBeTypeOf('function')
    }
    expect(SandboxCreate.args ?? {}).toEqual({})
    expect(SandboxCreate.strict).not.toBe(false)
    expect(Object.keys(COMMANDS).filter((id) => id.startsWith('sandbox:create:'))).toEqual([])
  })
})

const saved = {...process.env}
afterEach(() => {
  if (saved.NODEDOC_HOST_ROOT === undefined) delete process.env.NODEDOC_HOST_ROOT
  else process.env.NODEDOC_HOST_ROOT = saved.NODEDOC_HOST_ROOT
})

/** What oclif's parser makes of argv for the SandboxCreate class: flags with a value. */
async function oclifReads(argv: string[]) {
  const result = await Parser.parse(argv, {flags: flags as never, args: {}, strict: true, context: {} as never})
  return Object.fromEntries(Object.entries(result.flags).filter(([, v]) => v !== undefined))
}

describe('sandbox create through the direct path', () => {
  const taken: string[][] = [
    ['-f', 'pod.yaml'],
    ['--filename', 'pod.yaml', '--name', 'x', '--explain'],
    ['-f', 'pod.yaml', '--dry-run', '--isolation', 'unshare', '--rootfs', 'busybox'],
    ['--filename=pod.yaml', '--pod-cidr=10.250.9.0/24', '--cgroup-driver', 'systemd', '--uid', '6f0f2a8e-3c1b-4a57-9d5e-0e7d6c2b1a90'],
    ['-f', 'pod.yaml', '--pod-pids-limit', '64', '-o', 'json', '--no-headers'],
    ['-f', 'pod.yaml', '--isolation=chroot', '--pod-pids-limit=1', '--output=yaml', '--sort-by', '.name', '--host-root', '/h'],
  ]
  it.each(taken)('reads %j as oclif does', async (...argv) => {
    const mine = parsePlain(argv, SANDBOX_CREATE_FLAGS, [], process.env)
    expect(mine).toBeDefined()
    const oclif = await oclifReads(argv)
    // the integer flag arrives as a number (direct-sandbox.ts turns it into one)
    expect({...mine!.flags, ...(mine!.flags['pod-pids-limit'] ? {'pod-pids-limit': Number(mine!.flags['pod-pids-limit'])} : {})}).toEqual(oclif)
    expect(directRun(['sandbox', 'create', ...argv], {})).toBeTypeOf('function')
  })

  const left: string[][] = [
    [], ['--name', 'x'], ['-f', 'pod.yaml', '--help'], ['-f', 'pod.yaml', '-h'], ['-f', 'pod.yaml', 'extra'], ['-f', 'pod.yaml', '--nope'],
    ['-f', 'a', '-f', 'b'], ['-f', 'pod.yaml', '--isolation', 'vm'], ['-f', 'pod.yaml', '--cgroup-driver', 'cgroupfs2'],
    ['-f', 'pod.yaml', '--pod-pids-limit', '0'], ['-f', 'pod.yaml', '--pod-pids-limit', '1.5'], ['-f', 'pod.yaml', '--pod-pids-limit', 'x'],
    ['-f', 'pod.yaml', '--explain=true'], ['-f', 'pod.yaml', '--no-explain'], ['-f', 'pod.yaml', '--'], ['-fpod.yaml'], ['-f', '-x'], ['-f', ''],
  ]
  it.each(left)('leaves %j to oclif', (...argv) => {
    expect(directRun(['sandbox', 'create', ...argv], {})).toBeUndefined()
  })

  it('takes sandbox create alone, and not while debugging or on an older Node', () => {
    expect(directRun(['sandbox', 'rm', '-f', 'x'], {})).toBeUndefined()
    expect(directRun(['pod', '-f', 'x'], {})).toBeUndefined()
    expect(directRun(['sandbox', 'create', '-f', 'x'], {DEBUG: '*'})).toBeUndefined()
    expect(directRun(['sandbox', 'create', '-f', 'x'], {NODEDOC_DEBUG: '1'})).toBeUndefined()
    expect(directRun(['sandbox', 'create', '-f', 'x'], {}, '18.20.0')).toBeUndefined()
  })
})
