// The direct path's reading of ps's flags against oclif's own: the flag table must say what the
// Ps class's flags say, and every argv it takes must parse to what oclif's parser makes of it;
// every other argv is left to oclif.
import {Parser} from '@oclif/core'
import {afterEach, describe, expect, it} from 'vitest'
import Ps from '../../../commands/ps.js'
import {COMMANDS} from '../../../commands/index.js'
import {PS_FLAGS, directRun} from '../../../src/cli/direct-ps.js'
import {parsePlain} from '../../../src/cli/plain-argv.js'

const flags = {...Ps.baseFlags, ...Ps.flags} as Record<string, Record<string, unknown>>
/** Keys of a flag that only its help shows. */
const HELP_ONLY = new Set(['description', 'summary', 'helpGroup', 'helpLabel', 'helpValue', 'hidden', 'noCacheDefault', 'name'])

describe("the direct path knows ps's flags as oclif does", () => {
  it('has every flag of the Ps class, with the same type, letters, variable and default, and no argument', () => {
    expect(Object.keys(PS_FLAGS).sort()).toEqual(Object.keys(flags).sort())
    for (const [name, flag] of Object.entries(flags)) {
      const mine = PS_FLAGS[name]
      expect({name, boolean: flag.type === 'boolean', char: flag.char, charAliases: flag.charAliases, env: flag.env, default: flag.default}).toEqual({name, boolean: mine.boolean === true, char: mine.char, charAliases: mine.charAliases, env: mine.env, default: mine.default})
      // anything else a flag can say (aliases, options, multiple, relations, stdin, ...) the direct path does not read
      const known = new Set([...HELP_ONLY, 'parse', 'input', 'type', 'char', 'charAliases', 'env', 'default', 'multiple', 'allowNo'])
      expect(Object.keys(flag).filter((k) => !known.has(k) && flag[k] !== undefined), name).toEqual([])
      expect(flag.multiple ?? false, name).toBe(false)
      expect(flag.allowNo ?? false, name).toBe(false)
    }
    expect(Ps.args ?? {}).toEqual({})
    expect(Ps.strict).not.toBe(false)
    // oclif would read `ps x` as the command ps:x if there were one
    expect(Object.keys(COMMANDS).filter((id) => id.startsWith('ps:'))).toEqual([])
  })

  it("checks a value where the flag's own parse does, and takes it as it is everywhere else", async () => {
    for (const [name, flag] of Object.entries(flags)) {
      const parse = flag.parse as (input: string, ctx: unknown, flag: unknown) => Promise<unknown>
      if (PS_FLAGS[name].check) {
        await expect(parse('tcp://10.0.0.1:1', {}, flag), name).rejects.toThrow()
        expect(() => PS_FLAGS[name].check!('tcp://10.0.0.1:1')).toThrow()
        expect(await parse('unix:///run/x.sock', {}, flag)).toBe('unix:///run/x.sock')
      } else if (flag.type !== 'boolean') {
        expect(await parse('some -value=x', {}, flag), name).toBe('some -value=x')
      }
    }
  })
})

const saved = {...process.env}
afterEach(() => {
  for (const key of ['NODEDOC_HOST_ROOT', 'CONTAINER_RUNTIME_ENDPOINT']) {
    if (saved[key] === undefined) delete process.env[key]
    else process.env[key] = saved[key]
  }
})

/** What oclif's parser makes of argv for the Ps class: flags with a value. */
async function oclifReads(argv: string[]) {
  const result = await Parser.parse(argv, {flags: flags as never, args: {}, strict: true, context: {} as never})
  return Object.fromEntries(Object.entries(result.flags).filter(([, v]) => v !== undefined))
}

describe('ps through the direct path', () => {
  const taken: Array<[string[], Record<string, string>?]> = [
    [[]],
    [['-A']],
    [['-e']],
    [['--all', '-o', 'wide']],
    [['-A', '--from', '/tmp/snap', '-o', 'json']],
    [['--pod', 'core-k8s', '-n', 'default']],
    [['--pod=core-k8s', '--namespace=kube-system', '--output=jsonpath={.items[*].pid}']],
    [['--zombies'], {}],
    [['--unowned', '--zombies', '--no-headers', '--sort-by', '.pid']],
    [['-A', '--host-root', '/host', '-r', 'unix:///run/containerd/containerd.sock']],
    [['-o', 'custom-columns=PID:.pid,CMD:.command', '--sort-by={.pid}']],
    [['-A'], {NODEDOC_HOST_ROOT: '/host'}],
    [['-A', '--host-root', '/other'], {NODEDOC_HOST_ROOT: '/host'}],
    [['-A'], {NODEDOC_HOST_ROOT: ''}],
    [['-A'], {CONTAINER_RUNTIME_ENDPOINT: 'unix:///run/crio/crio.sock'}],
    [['-A'], {CONTAINER_RUNTIME_ENDPOINT: ''}],
  ]
  it.each(taken)('reads %j (env %j) as oclif does', async (argv, env = {}) => {
    Object.assign(process.env, env)
    const mine = parsePlain(argv, PS_FLAGS, [], process.env)
    expect(mine).toBeDefined()
    expect(mine!.args).toEqual({})
    expect(mine!.flags).toEqual(await oclifReads(argv))
    expect(directRun(['ps', ...argv], process.env)).toBeTypeOf('function')
  })

  const left: Array<[string[], Record<string, string>?]> = [
    [['-h']], [['--help']], [['-A', '--help']], [['x']], [['-A', 'x']], [['--']], [['-A', '--', '-n']], [['--nope']], [['-A', '-A']], [['-A', '-e']],
    [['-Ae']], [['-Ao', 'wide']], [['-owide']], [['-o=wide']], [['-n']], [['-n', '']], [['-n', '-x']], [['--namespace=']], [['--pod', '-A']],
    [['--all=true']], [['--no-all']], [['--zombies=false']], [['-r', 'tcp://1.2.3.4:5']], [['-A'], {CONTAINER_RUNTIME_ENDPOINT: 'npipe:////./pipe/x'}],
    [['--version']], [['-']], [['']],
  ]
  it.each(left)('leaves %j (env %j) to oclif', (argv, env = {}) => {
    expect(directRun(['ps', ...argv], {...process.env, ...env})).toBeUndefined()
  })

  it('takes ps alone, and not while debugging or on an older Node', () => {
    expect(directRun(['ps'], {})).toBeTypeOf('function')
    expect(directRun(['pod', 'x'], {})).toBeUndefined()
    expect(directRun(['pods'], {})).toBeUndefined()
    expect(directRun(['ps', '-A'], {DEBUG: '*'})).toBeUndefined()
    expect(directRun(['ps', '-A'], {NODEDOC_DEBUG: '1'})).toBeUndefined()
    expect(directRun(['ps', '-A'], {}, '18.20.0')).toBeUndefined()
  })
})
