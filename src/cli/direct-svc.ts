// The launcher's direct path for `nodedoc svc`: the run starts without oclif's start (its launcher
// part, Config, root plugin, command lookup and flag parser), CPU that a live svc NAME's listings
// share two cores with. As for `pod` (direct.ts), bin/run.js loads this module alone (its own
// bundle file, dist/nodedoc/direct-svc.cjs, which holds no oclif), after svc-early.cjs has
// started a live run's listings. It takes only the plain forms of the flags below, whose meaning
// is certain: help, a flag not here (--from, --probe and its flags), a repeated one, a value
// oclif's options refuse, `--`, another --host-root than /, debugging all go to oclif before
// anything is done, so every usage error and help text is oclif's own. What it runs is the Svc
// class's own body (svc.ts) and the base command's printing (answer.ts).
// test/unit/cli/direct.test.ts checks this table against the Svc class's flags.
import type {Host} from '../host/host.js'
import {openHostFor, printHostWarnings} from './answer.js'
import {BASE_FLAGS, type DirectFlag, directAllowed, parsePlain, runAsCommand} from './plain-argv.js'
import {type SvcArgs, type SvcFlags, printSvc, traceSvc} from './svc.js'

/** A flag with oclif's `options`: a value outside them is oclif's to refuse. */
const oneOf = (options: string[]) => (value: string) => {
  if (!options.includes(value)) throw new Error(`${value} is not one of ${options.join(', ')}`)
}

/** The Svc class's flags (commands/svc.ts) taken here; the others are oclif's. */
export const SVC_FLAGS: Record<string, DirectFlag> = {
  namespace: {char: 'n'},
  port: {},
  ip: {},
  'all-namespaces': {char: 'A', boolean: true},
  'iptables-save': {},
  nft: {},
  ipvsadm: {},
  protocol: {check: oneOf(['tcp', 'udp', 'sctp'])},
  graph: {check: oneOf(['dot', 'mermaid'])},
  'iptables-backend': {default: 'auto', check: oneOf(['auto', 'nft', 'legacy'])},
  'live-routes': {boolean: true},
  // --from is oclif's: a snapshot run has no early listings to take over
  ...Object.fromEntries(Object.entries(BASE_FLAGS).filter(([name]) => name !== 'from')),
}

/** The run for process.argv.slice(2) when the direct path owns it, else undefined (and nothing has been done). */
export function directRun(argv: string[], env: NodeJS.ProcessEnv = process.env, nodeVersion = process.versions.node): (() => Promise<void>) | undefined {
  if (argv[0] !== 'svc' || !directAllowed(env, nodeVersion)) return undefined
  const parsed = parsePlain(argv.slice(1), SVC_FLAGS, ['name'], env)
  // on this machine's own root (the only one a live run's early listings read)
  if (!parsed || parsed.flags['host-root'] !== '/') return undefined
  // oclif's metadata: --host-root given, or taken from its variable, is not its default
  const hostRootGiven = argv.some((a) => a === '--host-root' || a.startsWith('--host-root=')) || Boolean(env.NODEDOC_HOST_ROOT)
  return () => runSvc(parsed.args as SvcArgs, parsed.flags as SvcFlags, hostRootGiven)
}

/** svc's run as oclif's Command runs it, its host's warnings printed at the end. */
async function runSvc(args: SvcArgs, flags: SvcFlags, hostRootGiven: boolean): Promise<void> {
  let host: Host | undefined
  await runAsCommand(async () => {
    const report = await traceSvc(args, flags, hostRootGiven, async (chosen) => (host = await openHostFor(chosen)))
    await printSvc(host, report, flags)
  }, () => printHostWarnings(host))
}
