// The launcher's direct path: `nodedoc pod NAME` without oclif. oclif's start (its Config, the
// root plugin and the command lookup, its modules, the flag parser) is most of what a `pod` run
// spends beyond loading code and reading the pod. bin/run.js loads this module alone (its own
// bundle file, dist/nodedoc/direct.cjs, which holds no oclif) and asks it first; it takes only
// the plain forms of pod's flags, whose meaning is certain, and gives everything else (help,
// repeated or unknown flags, a value that looks like a flag, `--`, debugging) back to oclif
// before anything is done, so every usage error and help text is oclif's own. What it runs is
// the Pod class's own body (pod.ts) and the base command's printing (answer.ts).
// test/unit/cli/direct.test.ts checks this table against the Pod class's flags.
import type {Host} from '../host/host.js'
import {socketPathOf} from '../host/cri-endpoint.js'
import {watchOutput} from '../interrupt.js'
import {openHostFor, printHostWarnings, reportError} from './answer.js'
import {type PodArgs, type PodFlags, answerPod} from './pod.js'

/** One flag as the direct path reads it: what oclif's definition of it says, and no more. */
export interface DirectFlag {
  char?: string
  /** a boolean flag: present or not, never a value */
  boolean?: true
  /** the environment variable oclif takes its value from when the flag is not given */
  env?: string
  default?: string
  /** the flag's own check of its value (oclif's parse); a value it refuses is oclif's to report */
  check?: (value: string) => unknown
}

/** pod's flags (commands/pod.ts) and the inspection commands' common ones (base-command.ts). */
export const POD_FLAGS: Record<string, DirectFlag> = {
  namespace: {char: 'n'},
  uid: {},
  'runtime-endpoint': {char: 'r', env: 'CONTAINER_RUNTIME_ENDPOINT', check: socketPathOf},
  output: {char: 'o', default: 'table'},
  'no-headers': {boolean: true},
  'sort-by': {},
  'host-root': {env: 'NODEDOC_HOST_ROOT', default: '/'},
  from: {},
}

/** package.json's engines (>=20): on an older Node, oclif's start prints its warning. */
export const MIN_NODE_MAJOR = 20

export interface Parsed {
  args: Record<string, string>
  flags: Record<string, string | boolean>
}

/**
 * argv (after the command's name) as oclif would parse it, when its reading is certain; else
 * undefined. Taken: `--flag value`, `--flag=value`, `-c value`, a boolean `--flag`, and at most
 * `positional.length` arguments; each flag once; no value empty or starting with '-'.
 */
export function parsePlain(argv: string[], flags: Record<string, DirectFlag>, positional: string[], env: NodeJS.ProcessEnv = process.env): Parsed | undefined {
  const parsed: Parsed = {args: {}, flags: {}}
  const chars = new Map(Object.entries(flags).flatMap(([name, flag]) => (flag.char ? [[flag.char, name] as const] : [])))
  const value = (text: string | undefined) => (text === undefined || text === '' || text.startsWith('-') ? undefined : text)
  let argCount = 0
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]
    if (!token.startsWith('-')) {
      if (token === '' || argCount >= positional.length) return undefined
      parsed.args[positional[argCount++]] = token
      continue
    }
    const long = token.startsWith('--')
    const at = long ? token.indexOf('=') : -1
    const name = long ? token.slice(2, at === -1 ? undefined : at) : token.length === 2 ? chars.get(token[1]) : undefined
    if (name === undefined || !Object.hasOwn(flags, name) || Object.hasOwn(parsed.flags, name)) return undefined
    if (flags[name].boolean) {
      if (at !== -1) return undefined
      parsed.flags[name] = true
      continue
    }
    const given = value(at === -1 ? argv[++i] : token.slice(at + 1))
    if (given === undefined) return undefined
    parsed.flags[name] = given
  }
  for (const [name, flag] of Object.entries(flags)) {
    if (Object.hasOwn(parsed.flags, name)) continue
    // oclif takes a non-empty variable, else the default
    const fromEnv = flag.env ? env[flag.env] : undefined
    if (fromEnv) parsed.flags[name] = fromEnv
    else if (flag.default !== undefined) parsed.flags[name] = flag.default
  }
  for (const [name, flag] of Object.entries(flags)) {
    const given = parsed.flags[name]
    if (flag.check && typeof given === 'string') {
      try {
        flag.check(given)
      } catch {
        return undefined
      }
    }
  }
  return parsed
}

/**
 * The run for process.argv.slice(2) when the direct path owns it, else undefined (and nothing
 * has been done). Debugging (DEBUG, NODEDOC_DEBUG) and an old Node go through oclif, which acts
 * on them.
 */
export function directRun(argv: string[], env: NodeJS.ProcessEnv = process.env, nodeVersion = process.versions.node): (() => Promise<void>) | undefined {
  if (argv[0] !== 'pod' || env.DEBUG || env.NODEDOC_DEBUG || Number(nodeVersion.split('.')[0]) < MIN_NODE_MAJOR) return undefined
  const parsed = parsePlain(argv.slice(1), POD_FLAGS, ['name'], env)
  if (!parsed) return undefined
  return () => runPod(parsed.args as PodArgs, parsed.flags as PodFlags)
}

/** What oclif's Command does around a command's run, for pod: the same listeners, errors and warnings, in the same order. */
async function runPod(args: PodArgs, flags: PodFlags): Promise<void> {
  // oclif's Command module, as it loads, ignores EPIPE on stdout (then watchOutput's handler ends the run)
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error && error.code === 'EPIPE') return
    throw error
  })
  // Command._run first removes <BIN>_REDIRECTED from the environment
  delete process.env.NODEDOC_REDIRECTED
  watchOutput()
  let host: Host | undefined
  try {
    await answerPod(args, flags, async (chosen) => (host = await openHostFor(chosen)))
  } catch (error) {
    reportError(error as Error)
  } finally {
    printHostWarnings(host)
  }
  await flushStdout()
}

/**
 * What oclif's flush() does after a command: an empty write to stdout, then its 'drain' if that
 * write is held back (oclif gives up after 10 s; on Linux a pipe, terminal or file never holds
 * a write back, stdout being synchronous there).
 */
async function flushStdout(): Promise<void> {
  // 'drain' comes on a later turn, so a listener added after the write still hears it
  if (!process.stdout.write('')) await new Promise((resolve) => process.stdout.once('drain', resolve))
}
