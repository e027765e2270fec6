// `nodedoc sandbox create`'s work once its flags are parsed, shared by oclif's SandboxCreate class
// (commands/sandbox/create.ts) and the launcher's direct path (direct-sandbox.ts): one body, so
// both answer alike.
import chalk from 'chalk'
import {interruptOn} from '../interrupt.js'
import {NodedocError} from '../errors.js'
import {escapeControl} from '../output/escape.js'
import {ISOLATIONS, type Isolation, describeOp} from '../sandbox/plan.js'
import {DEFAULT_POD_CIDR, SandboxError, createSandbox} from '../sandbox/service.js'
import {SANDBOX_DOCUMENT, createdTable} from '../sandbox/render.js'
import {type OutputFlags, printRecord, warnNow} from './answer.js'
import type {DirectFlag} from './plain-argv.js'

export interface SandboxCreateFlags extends OutputFlags {
  filename: string
  name?: string
  explain?: boolean
  'dry-run'?: boolean
  isolation: string
  rootfs?: string
  'pod-cidr': string
  'cgroup-driver': string
  uid?: string
  'pod-pids-limit'?: number
  'host-root'?: string
  from?: string
}

export const CGROUP_DRIVERS = ['cgroupfs', 'systemd']

/** Refuses what oclif's integer flag with min 1 refuses. */
function positiveInteger(value: string): void {
  if (!/^-?\d+$/.test(value) || Number.parseInt(value, 10) < 1) throw new Error(`not an integer >= 1: ${value}`)
}

/** A check that refuses what a flag's `options` do not list. */
const oneOf = (options: string[]) => (value: string) => {
  if (!options.includes(value)) throw new Error(`not one of ${options.join(', ')}: ${value}`)
}

/** sandbox create's flags (commands/sandbox/create.ts) and the inspection commands' common ones, as the direct path reads them. */
export const SANDBOX_CREATE_FLAGS: Record<string, DirectFlag> = {
  filename: {char: 'f'},
  name: {},
  explain: {boolean: true},
  'dry-run': {boolean: true},
  isolation: {default: 'full', check: oneOf(ISOLATIONS)},
  rootfs: {},
  'pod-cidr': {default: DEFAULT_POD_CIDR},
  'cgroup-driver': {default: 'cgroupfs', check: oneOf(CGROUP_DRIVERS)},
  uid: {},
  'pod-pids-limit': {check: positiveInteger},
  output: {char: 'o', default: 'table'},
  'no-headers': {boolean: true},
  'sort-by': {},
  'host-root': {env: 'NODEDOC_HOST_ROOT', default: '/'},
  from: {},
}

/** Narration beside the answer (the steps --explain shows): stderr, so stdout stays the answer. */
function printAside(text: string): void {
  process.stderr.write(text)
}

/** Creates the sandbox the flags describe and prints it (or, with --dry-run, its steps only). */
export async function answerSandboxCreate(flags: SandboxCreateFlags): Promise<void> {
  const failStep = process.env.NODEDOC_SANDBOX_FAIL_STEP ? Number(process.env.NODEDOC_SANDBOX_FAIL_STEP) : undefined
  const holdStep = process.env.NODEDOC_SANDBOX_HOLD_STEP ? Number(process.env.NODEDOC_SANDBOX_HOLD_STEP) : undefined
  // every way this process can be told to stop, and an error nobody caught, rolls back
  // everything made so far; only SIGKILL cannot, and `sandbox ls` then says `interrupted`
  const interrupt = interruptOn({uncaught: true})
  const explain = flags.explain || flags['dry-run']
  try {
    await createSandbox({
      manifestPath: flags.filename,
      name: flags.name,
      isolation: flags.isolation as Isolation,
      rootfs: flags.rootfs,
      podCidr: flags['pod-cidr'],
      cgroupDriver: flags['cgroup-driver'] as 'cgroupfs' | 'systemd',
      podPidsLimit: flags['pod-pids-limit'] ?? null,
      podUid: flags.uid,
      failStep,
      holdStep,
      dryRun: flags['dry-run'],
      aborted: () => interrupt.signal.aborted,
      onStep: explain ? (step, n, op) => printAside(`${chalk.bold(`[${n}] ${step.id}`)}  ${chalk.dim(step.why)}\n    $ ${escapeControl(describeOp(op))}\n`) : undefined,
      onWarning: (m) => warnNow(m),
      // the output is the create's last part: should it fail, the sandbox goes again
      finish: async ({state, plan}) => printRecord(undefined, {...state, steps: undefined, plan: undefined, stepCount: plan.steps.length}, flags, () => createdTable(state, plan), SANDBOX_DOCUMENT),
    })
  } catch (error) {
    // a signal says itself in the exit code (129 HUP, 130 INT, 141 closed output, 143 TERM)
    if (error instanceof SandboxError && interrupt.cause) {
      const why = interrupt.cause === 'uncaught error' ? ` (stopped by an uncaught error: ${(interrupt.error as Error)?.message ?? String(interrupt.error)})` : ''
      throw new NodedocError(error.message + why, interrupt.exitCode)
    }
    throw error
  } finally {
    interrupt.dispose()
  }
}
