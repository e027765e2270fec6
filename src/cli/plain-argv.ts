// What the launcher's direct paths (direct.ts for `pod`, direct-ps.ts for `ps`, direct-svc.ts for
// `svc`, direct-sandbox.ts for `sandbox create`) share: when one may run at all, the flags they
// have in common, argv read as oclif would read it when its reading is certain, and oclif's flush
// of stdout after a command. No oclif in here: the direct paths start without it.
import {socketPathOf} from '../host/cri-endpoint.js'
import {watchOutput} from '../interrupt.js'
import {reportError} from './answer.js'

/** One flag as the direct path reads it: what oclif's definition of it says, and no more. */
export interface DirectFlag {
  char?: string
  /** other letters oclif takes for the flag (ps's -e for -A) */
  charAliases?: string[]
  /** a boolean flag: present or not, never a value */
  boolean?: true
  /** the environment variable oclif takes its value from when the flag is not given */
  env?: string
  default?: string
  /** the flag's own check of its value (oclif's parse); a value it refuses is oclif's to report */
  check?: (value: string) => unknown
}

/** package.json's engines (>=20): on an older Node, oclif's start prints its warning. */
export const MIN_NODE_MAJOR = 20

/**
 * Whether a direct path may take this run at all: debugging (DEBUG, NODEDOC_DEBUG) and an old
 * Node go through oclif, which acts on them.
 */
export function directAllowed(env: NodeJS.ProcessEnv, nodeVersion: string): boolean {
  return !env.DEBUG && !env.NODEDOC_DEBUG && Number(nodeVersion.split('.')[0]) >= MIN_NODE_MAJOR
}

/** The inspection commands' common flags (BaseCommand.baseFlags in base-command.ts). */
export const BASE_FLAGS: Record<string, DirectFlag> = {
  output: {char: 'o', default: 'table'},
  'no-headers': {boolean: true},
  'sort-by': {},
  'host-root': {env: 'NODEDOC_HOST_ROOT', default: '/'},
  from: {},
}

/** --runtime-endpoint (runtimeEndpointFlag in base-command.ts), with its check of the value. */
export const RUNTIME_ENDPOINT_FLAG: DirectFlag = {char: 'r', env: 'CONTAINER_RUNTIME_ENDPOINT', check: socketPathOf}

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
  const chars = new Map(Object.entries(flags).flatMap(([name, flag]) => [...(flag.char ? [flag.char] : []), ...(flag.charAliases ?? [])].map((char) => [char, name] as const)))
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
 * What oclif's flush() does after a command: an empty write to stdout, then its 'drain' if that
 * write is held back (oclif gives up after 10 s; on Linux a pipe, terminal or file never holds
 * a write back, stdout being synchronous there).
 */
export async function flushStdout(): Promise<void> {
  // 'drain' comes on a later turn, so a listener added after the write still hears it
  if (!process.stdout.write('')) await new Promise((resolve) => process.stdout.once('drain', resolve))
}

/**
 * What oclif's Command does around a command's run: the same listeners, errors and output, in
 * the same order. `after` runs once the body has ended, whatever its end (pod's host warnings).
 */
export async function runAsCommand(body: () => Promise<void>, after?: () => void): Promise<void> {
  // oclif's Command module, as it loads, ignores EPIPE on stdout (then watchOutput's handler ends the run)
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error && error.code === 'EPIPE') return
    throw error
  })
  // Command._run first removes <BIN>_REDIRECTED from the environment
  delete process.env.NODEDOC_REDIRECTED
  watchOutput()
  try {
    await body()
  } catch (error) {
    reportError(error as Error)
  } finally {
    after?.()
  }
  await flushStdout()
}
