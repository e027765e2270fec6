// The launcher's direct path for `nodedoc ps`: the process list without oclif's start (its
// Config, the root plugin, the command lookup, its modules, the flag parser). As for `pod`
// (direct.ts), bin/run.js loads this module alone (its own bundle file, dist/nodedoc/direct-ps.cjs,
// which holds no oclif), and it takes only the plain forms of ps's flags, whose meaning is
// certain: help, a repeated or unknown flag, bundled letters (`-Ao`), a value that looks like a
// flag, an argument, `--`, debugging all go to oclif before anything is done, so every usage
// error and help text is oclif's own. What it runs is the Ps class's own body (ps.ts) and the
// base command's printing (answer.ts).
// test/unit/cli/direct-ps.test.ts checks this table against the Ps class's flags.
import type {Host} from '../host/host.js'
import {openHostFor, printHostWarnings} from './answer.js'
import {BASE_FLAGS, type DirectFlag, RUNTIME_ENDPOINT_FLAG, directAllowed, parsePlain, runAsCommand} from './plain-argv.js'
import {type PsFlags, answerPs} from './ps.js'

/** ps's flags (commands/ps.ts) and the inspection commands' common ones (base-command.ts). */
export const PS_FLAGS: Record<string, DirectFlag> = {
  pod: {},
  namespace: {char: 'n'},
  all: {char: 'A', charAliases: ['e'], boolean: true},
  zombies: {boolean: true},
  unowned: {boolean: true},
  'runtime-endpoint': RUNTIME_ENDPOINT_FLAG,
  ...BASE_FLAGS,
}

/** The run for process.argv.slice(2) when this path owns it, else undefined (and nothing has been done). */
export function directRun(argv: string[], env: NodeJS.ProcessEnv = process.env, nodeVersion = process.versions.node): (() => Promise<void>) | undefined {
  if (argv[0] !== 'ps' || !directAllowed(env, nodeVersion)) return undefined
  const parsed = parsePlain(argv.slice(1), PS_FLAGS, [], env)
  if (!parsed) return undefined
  return () => runPs(parsed.flags as PsFlags)
}

/** ps's run as oclif's Command runs it, its host's warnings printed at the end. */
async function runPs(flags: PsFlags): Promise<void> {
  let host: Host | undefined
  await runAsCommand(() => answerPs(flags, async (chosen) => (host = await openHostFor(chosen))), () => printHostWarnings(host))
}
