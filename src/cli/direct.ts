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
import {openHostFor, printHostWarnings} from './answer.js'
import {type PodArgs, type PodFlags, answerPod} from './pod.js'
import {BASE_FLAGS, type DirectFlag, RUNTIME_ENDPOINT_FLAG, directAllowed, parsePlain, runAsCommand} from './plain-argv.js'

export {type DirectFlag, MIN_NODE_MAJOR, type Parsed, parsePlain} from './plain-argv.js'

/** pod's flags (commands/pod.ts) and the inspection commands' common ones (base-command.ts). */
export const POD_FLAGS: Record<string, DirectFlag> = {
  namespace: {char: 'n'},
  uid: {},
  'runtime-endpoint': RUNTIME_ENDPOINT_FLAG,
  ...BASE_FLAGS,
}

/** The run for process.argv.slice(2) when the direct path owns it, else undefined (and nothing has been done). */
export function directRun(argv: string[], env: NodeJS.ProcessEnv = process.env, nodeVersion = process.versions.node): (() => Promise<void>) | undefined {
  if (argv[0] !== 'pod' || !directAllowed(env, nodeVersion)) return undefined
  const parsed = parsePlain(argv.slice(1), POD_FLAGS, ['name'], env)
  if (!parsed) return undefined
  return () => runPod(parsed.args as PodArgs, parsed.flags as PodFlags)
}

/** pod's run as oclif's Command runs it, its host's warnings printed at the end. */
async function runPod(args: PodArgs, flags: PodFlags): Promise<void> {
  let host: Host | undefined
  await runAsCommand(() => answerPod(args, flags, async (chosen) => (host = await openHostFor(chosen))), () => printHostWarnings(host))
}
