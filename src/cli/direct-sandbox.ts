// The launcher's direct path for `nodedoc sandbox create`: the create starts without oclif's
// start (its Config, the root plugin, the command lookup, its modules, the flag parser), which
// is time the pod waits for. As for `pod` (direct.ts), bin/run.js loads this module alone (its
// own bundle file, dist/nodedoc/direct-sandbox.cjs, which holds no oclif), and it takes only the
// plain forms of the command's flags, whose meaning is certain: help, a missing -f, a repeated
// or unknown flag, a value oclif refuses (an --isolation it does not list, a --pod-pids-limit
// below 1), `--`, debugging all go to oclif before anything is done, so every usage error and
// help text is oclif's own. What it runs is the SandboxCreate class's own body
// (sandbox-create.ts) and the base command's printing (answer.ts).
// test/unit/cli/direct.test.ts checks this table against the SandboxCreate class's flags.
import {directAllowed, parsePlain, runAsCommand} from './plain-argv.js'
import {SANDBOX_CREATE_FLAGS, type SandboxCreateFlags, answerSandboxCreate} from './sandbox-create.js'

/** The run for process.argv.slice(2) when this path owns it, else undefined (and nothing has been done). */
export function directRun(argv: string[], env: NodeJS.ProcessEnv = process.env, nodeVersion = process.versions.node): (() => Promise<void>) | undefined {
  if (argv[0] !== 'sandbox' || argv[1] !== 'create' || !directAllowed(env, nodeVersion)) return undefined
  const parsed = parsePlain(argv.slice(2), SANDBOX_CREATE_FLAGS, [], env)
  // -f is required: oclif says so
  if (!parsed || typeof parsed.flags.filename !== 'string') return undefined
  const {'pod-pids-limit': limit, ...flags} = parsed.flags
  return () => runAsCommand(() => answerSandboxCreate({...flags, ...(typeof limit === 'string' ? {'pod-pids-limit': Number.parseInt(limit, 10)} : {})} as unknown as SandboxCreateFlags))
}
