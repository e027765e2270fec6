// The direct path's reading of pod's flags against oclif's own: the flag table must say what the
// Pod class's flags say, and every argv it takes must parse to what oclif's parser makes of it.
import {Parser} from '@oclif/core'
import {afterEach, describe, expect, it} from 'vitest'
import Pod from '../../../commands/pod.js'
import Svc from '../../../commands/svc.js'
import {SVC_FLAGS, directRun as directSvcRun} from '../../../src/cli/direct-svc.js'
import {COMMANDS} from '../../../commands/index.js'
import {POD_FLAGS, MIN_NODE_MAJOR, directRun, parsePlain} from '../../../src/cli/direct.js'
import {readFileSync} from 'node:fs'

const flags = {...Pod.baseFlags, ...Pod.flags} as Record<string, Record<string, unknown>>
/** Keys of a flag or argument that only its help shows. */
const HELP_ONLY = new Set(['description', 'summary', 'helpGroup', 'helpLabel', 'helpValue', 'hidden', 'noCacheDefault', 'name'])

describe('the direct path knows pod\'s flags as oclif does', () => {
  it('has every flag of the Pod class, with the same type, letter, variable and default', () => {
    expect(Object.keys(POD_FLAGS).sort()).toEqual(Object.keys(flags).sort())
    for (const [name, flag] of Object.entries(flags)) {
      const mine = POD_FLAGS[name]
      expect({name, boolean: flag.type === 'boolean', char: flag.char, env: flag.env, default: flag.default}).toEqual({name, boolean: mine.boolean === true, char: mine.char, env: mine.env, default: mine.default})
      // anything else a flag can say (aliases, options, multiple, relations, stdin, ...) the direct path does not read
      const known = new Set([...HELP_ONLY, 'parse', 'input', 'type', 'char', 'env', 'default', 'multiple', 'allowNo'])
      expect(Object.keys(flag).filter((k) => !known.has(k) && flag[k] !== undefined), name).toEqual([])
      expect(flag.multiple ?? false, name).toBe(false)
      expect(flag.allowNo ?? false, name).toBe(false)
    }
  })

  it('checks a value where the flag\'s own parse does, and takes it as it is everywhere else', async () => {
    for (const [name, flag] of Object.entries(flags)) {
      const parse = flag.parse as (input: string, ctx: unknown, flag: unknown) => Promise<unknown>
      if (POD_FLAGS[name].check) {
        await expect(parse('tcp://10.0.0.1:1', {}, flag), name).rejects.toThrow()
        expect(() => POD_FLAGS[name].check!('tcp://10.0.0.1:1')).toThrow()
        expect(await parse('unix:///run/x.sock', {}, flag)).toBe('unix:///run/x.sock')
      } else if (flag.type !== 'boolean') {
        expect(await parse('some -value=x', {}, flag), name).toBe('some -value=x')
      }
    }
  })

  it('has one argument, the optional name; strict; no command pod:*', () => {
    const args = Pod.args as Record<string, Record<string, unknown>>
    expect(Object.keys(args)).toEqual(['name'])
    const known = new Set([...HELP_ONLY, 'parse', 'input', 'required', 'type'])
    expect(Object.keys(args.name).filter((k) => !known.has(k) && args.name[k] !== undefined)).toEqual([])
    expect(args.name.required).toBe(false)
    expect(Pod.strict).not.toBe(false)
    // oclif would read `pod x` as the command pod:x if there were one
    expect(Object.keys(COMMANDS).filter((id) => id.startsWith('pod:'))).toEqual([])
  })

  it('asks for the Node that package.json asks for', () => {
    const engines = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')).engines.node
    expect(engines).toBe(`>=${MIN_NODE_MAJOR}`)
  })
})

const saved = {...process.env}
afterEach(() => {
  for (const key of ['NODEDOC_HOST_ROOT', 'CONTAINER_RUNTIME_ENDPOINT']) {
    if (saved[key] === undefined) delete process.env[key]
    else process.env[key] = saved[key]
  }
})

/** What oclif's parser makes of argv for the Pod class: args, and flags with a value. */
async function oclifReads(argv: string[]) {
  const result = await Parser.parse(argv, {flags: flags as never, args: Pod.args, strict: true, context: {} as never})
  const defined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined))
  return {args: defined(result.args), flags: defined(result.flags)}
}

describe('parsePlain', () => {
  const taken: Array<[string[], Record<string, string>?]> = [
    [[]],
    [['core-k8s']],
    [['core-k8s', '-n', 'default']],
    [['-n', 'default', 'core-k8s']],
    [['core-k8s', '--namespace', 'kube-system', '-o', 'json']],
    [['core-k8s', '--namespace=kube-system', '--output=jsonpath={.items[*].name}']],
    [['--uid', '6f0f2a8e-3c1b-4a57-9d5e-0e7d6c2b1a90']],
    [['x', '--from', '/tmp/snap.tar.gz', '--no-headers', '--sort-by', '.name']],
    [['x', '--host-root', '/host', '-r', 'unix:///run/containerd/containerd.sock']],
    [['x', '-o', 'custom-columns=A:.a,B:.b', '--sort-by={.name}']],
    [['x', '-o', 'a=b=c']],
    [['x'], {NODEDOC_HOST_ROOT: '/host'}],
    [['x', '--host-root', '/other'], {NODEDOC_HOST_ROOT: '/host'}],
    [['x'], {NODEDOC_HOST_ROOT: ''}],
    [['x'], {CONTAINER_RUNTIME_ENDPOINT: 'unix:///run/crio/crio.sock'}],
    [['x'], {CONTAINER_RUNTIME_ENDPOINT: ''}],
    [['x', '-r', '/run/x.sock'], {CONTAINER_RUNTIME_ENDPOINT: 'unix:///run/crio/crio.sock'}],
  ]
  it.each(taken)('reads %j (env %j) as oclif does', async (argv, env = {}) => {
    Object.assign(process.env, env)
    const mine = parsePlain(argv, POD_FLAGS, ['name'], process.env)
    expect(mine).toBeDefined()
    expect(mine).toEqual(await oclifReads(argv))
  })

  const left: Array<[string[], Record<string, string>?]> = [
    [['-h']], [['--help']], [['x', '--']], [['x', '--', '-n']], [['x', 'y']], [['--nope']], [['x', '-n']],
    [['x', '-n', 'a', '-n', 'a']], [['x', '--namespace', 'a', '-n', 'b']], [['x', '-ndefault']], [['x', '-n=default']],
    [['x', '--namespace=']], [['x', '-n', '']], [['']], [['-']], [['x', '-n', '-x']], [['x', '--namespace=-x']],
    [['x', '--no-headers=true']], [['x', '--no-no-headers']], [['x', '-r', 'tcp://1.2.3.4:5']], [['x', '--version']],
    [['x'], {CONTAINER_RUNTIME_ENDPOINT: 'npipe:////./pipe/x'}], [['-5']], [['x', '--from']],
  ]
  it.each(left)('leaves %j (env %j) to oclif', (argv, env = {}) => {
    expect(parsePlain(argv, POD_FLAGS, ['name'], {...process.env, ...env})).toBeUndefined()
  })
})

describe('directRun', () => {
  it('takes pod alone, and not while debugging or on an older Node', () => {
    expect(directRun(['pod', 'x'], {})).toBeTypeOf('function')
    expect(directRun(['ps'], {})).toBeUndefined()
    expect(directRun(['pods', 'x'], {})).toBeUndefined()
    expect(directRun(['pod', 'x'], {DEBUG: '*'})).toBeUndefined()
    expect(directRun(['pod', 'x'], {NODEDOC_DEBUG: '1'})).toBeUndefined()
    expect(directRun(['pod', 'x'], {}, '18.20.0')).toBeUndefined()
    expect(directRun(['pod', 'x', '--help'], {})).toBeUndefined()
  })
})

describe('the direct path knows svc\'s flags as oclif does', () => {
  const svcFlags = {...Svc.baseFlags, ...Svc.flags} as Record<string, Record<string, unknown>>
  /** Svc's flags the direct path leaves to oclif (any argv naming one goes there). */
  const LEFT_TO_OCLIF = ['from', 'probe', 'from-pod', 'from-node', 'count']

  it('has every flag of the Svc class but those it leaves to oclif, with the same type, letter, variable, default and options', () => {
    expect(Object.keys(SVC_FLAGS).sort()).toEqual(Object.keys(svcFlags).filter((name) => !LEFT_TO_OCLIF.includes(name)).sort())
    for (const [name, mine] of Object.entries(SVC_FLAGS)) {
      const flag = svcFlags[name]
      expect({name, boolean: flag.type === 'boolean', char: flag.char, env: flag.env, default: flag.default}).toEqual({name, boolean: mine.boolean === true, char: mine.char, env: mine.env, default: mine.default})
      const known = new Set([...HELP_ONLY, 'parse', 'input', 'type', 'char', 'env', 'default', 'multiple', 'allowNo', 'options'])
      expect(Object.keys(flag).filter((k) => !known.has(k) && flag[k] !== undefined), name).toEqual([])
      expect(flag.multiple ?? false, name).toBe(false)
      expect(flag.allowNo ?? false, name).toBe(false)
      // a flag with options: the direct path's check takes each of them and nothing else
      const options = flag.options as string[] | undefined
      if (options) {
        for (const option of options) expect(() => mine.check!(option), name).not.toThrow()
        for (const other of ['', 'x', options[0].toUpperCase(), ` ${options[0]}`]) expect(() => mine.check!(other), `${name} ${other}`).toThrow()
      } else {
        expect(mine.check, name).toBeUndefined()
      }
    }
  })

  it('has one argument, the optional name; strict; no command svc:*', () => {
    const args = Svc.args as Record<string, Record<string, unknown>>
    expect(Object.keys(args)).toEqual(['name'])
    const known = new Set([...HELP_ONLY, 'parse', 'input', 'required', 'type', 'ignoreStdin'])
    expect(Object.keys(args.name).filter((k) => !known.has(k) && args.name[k] !== undefined)).toEqual([])
    expect(args.name.required).toBe(false)
    expect(Svc.strict).not.toBe(false)
    expect(Object.keys(COMMANDS).filter((id) => id.startsWith('svc:'))).toEqual([])
  })

  /** What oclif's parser makes of argv for the Svc class: args, and flags with a value. */
  async function oclifReadsSvc(argv: string[]) {
    const result = await Parser.parse(argv, {flags: svcFlags as never, args: Svc.args, strict: true, context: {} as never})
    const defined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined))
    return {args: defined(result.args), flags: defined(result.flags)}
  }

  const taken: string[][] = [
    ['web'],
    ['ns1/web', '-o', 'json'],
    ['web', '-n', 'ns1', '--port', 'http', '--protocol', 'udp'],
    ['-A', '--iptables-save', '/tmp/x.save'],
    ['--all-namespaces', '--nft', 'x.nft', '--sort-by', '.service'],
    ['--ip', '10.96.0.10', '--ipvsadm', 'x.txt', '--no-headers'],
    ['web', '--iptables-backend=legacy', '--graph', 'dot', '--live-routes'],
    ['web', '--host-root', '/'],
  ]
  it.each(taken)('reads %j as oclif does', async (...argv) => {
    const mine = parsePlain(argv, SVC_FLAGS, ['name'], {})
    expect(mine).toBeDefined()
    expect(mine).toEqual(await oclifReadsSvc(argv))
  })

  it('leaves to oclif what it does not take', () => {
    for (const argv of [['svc', 'web', '--protocol', 'TCP'], ['svc', 'web', '--graph', 'svg'], ['svc', 'web', '--iptables-backend', 'x'], ['svc', 'web', '--probe'],
      ['svc', 'web', '--from', 'x'], ['svc', 'web', '--count', '3'], ['svc', 'web', '--host-root', '/host'], ['svc', 'web', '-h'], ['svc', 'web', '-Ax'], ['svc', 'a', 'b']]) {
      expect(directSvcRun(argv, {}), argv.join(' ')).toBeUndefined()
    }
    expect(directSvcRun(['svc', 'web'], {NODEDOC_HOST_ROOT: '/host'})).toBeUndefined()
    expect(directSvcRun(['svc', 'web'], {NODEDOC_DEBUG: '1'})).toBeUndefined()
    expect(directSvcRun(['svc', 'web'], {}, '18.20.0')).toBeUndefined()
    expect(directSvcRun(['pod', 'web'], {})).toBeUndefined()
    expect(directSvcRun(['svc', 'web'], {})).toBeTypeOf('function')
    expect(directSvcRun(['svc', 'web'], {NODEDOC_HOST_ROOT: '/'})).toBeTypeOf('function')
  })
})
