// Runs a plan: records each step's undo in the state file before the step acts, applies it
// through SandboxOps (src/write/sandbox-ops.ts on the live machine), steps that do not wait for
// each other at once, and on any failure or Ctrl-C undoes everything recorded, newest first.

import type {Op, ProcessMark, SandboxOps} from '../write/ops.js'
import {type Plan, type Step, resolveOp, resolveRefs, stepDependencies} from './plan.js'
import {type SandboxState, type StepRecord, pendingUndo} from './state.js'

export interface RunHooks {
  /** 1-based step number that fails on purpose (NODEDOC_SANDBOX_FAIL_STEP). */
  failStep?: number
  /**
   * 1-based step number that, once printed, waits until the create is interrupted (at most
   * HOLD_MS) before it acts (NODEDOC_SANDBOX_HOLD_STEP): a test's Ctrl-C, hang-up or closed
   * output then lands during that step however fast the steps after it would run.
   */
  holdStep?: number
  /** True once Ctrl-C arrived: stop before the next step and roll back. */
  aborted?: () => boolean
  /** Called before each step runs, with references resolved (for --explain). */
  onStep?: (step: Step, number: number, op: Op) => void
  /** Called when a step is done (for timings: steps run at once, so one's start is not another's end). */
  onStepDone?: (step: Step, number: number) => void
  onWarning?: (message: string) => void
}

export class SandboxStepError extends Error {
  constructor(message: string, readonly step: Step | null, readonly number: number, readonly rollbackProblems: string[]) {
    super(message)
  }
}

export class SandboxAborted extends SandboxStepError {}

export function pidsOf(processes: Record<string, ProcessMark>): Record<string, number> {
  return Object.fromEntries(Object.entries(processes).map(([k, v]) => [k, v.pid]))
}

/**
 * Applies every step as soon as the steps it waits for are done (plan.ts `after`), so the pod's
 * network and the container's root are built at once; on a failure or Ctrl-C no step starts any
 * more, the running ones finish, and everything recorded is undone (SandboxStepError).
 */
export async function runPlan(plan: Plan, state: SandboxState, ops: SandboxOps, hooks: RunHooks = {}): Promise<SandboxState> {
  const waitsFor = stepDependencies(plan.steps)
  const save = serialSaves(() => ops.saveState(state))
  const done = new Set<number>()
  const running = new Map<number, Promise<void>>()
  let failed: {error: unknown; index: number} | undefined
  const ready = (index: number) => !done.has(index) && !running.has(index) && waitsFor[index].every((k) => done.has(k))
  let settled = false
  for (;;) {
    // opening a gate is the point of no return: what is pending comes in first (a Ctrl-C, an
    // output whose reader went away), even when the steps before it ended without a pause
    if (!settled && !failed && plan.steps.some((s, i) => s.op.kind === 'release' && ready(i))) {
      settled = true
      await new Promise((resolve) => setImmediate(resolve))
    }
    for (const [index] of plan.steps.entries()) {
      if (failed) break
      if (!ready(index)) continue
      if (hooks.aborted?.()) {
        failed = {error: new SandboxAborted('interrupted', plan.steps[index], index + 1, []), index}
        break
      }
      const step = runStep(plan.steps[index], index, state, ops, save, hooks).then(
        () => void done.add(index),
        (error) => void (failed ??= {error, index}),
      )
      running.set(index, step.finally(() => running.delete(index)))
    }
    if (!running.size) break
    await Promise.race(running.values())
  }
  if (failed) {
    const {error, index} = failed
    const step = plan.steps[index]
    const problems = await rollback(state, ops)
    if (error instanceof SandboxAborted) throw new SandboxAborted(error.message, step, index + 1, problems)
    throw new SandboxStepError(`step ${index + 1} (${step.id}) failed: ${(error as Error).message}`, step, index + 1, problems)
  }
  state.phase = 'running'
  try {
    await ops.saveState(state)
  } catch (error) {
    // every step is done, but the state says otherwise: what was made goes, as for any failure
    const problems = await rollback(state, ops)
    throw new SandboxStepError(`saving the state after the last step failed: ${(error as Error).message}`, null, plan.steps.length, problems)
  }
  return state
}

/** One step: written down (with its undo) before it acts, then applied. */
async function runStep(step: Step, index: number, state: SandboxState, ops: SandboxOps, save: () => Promise<void>, hooks: RunHooks): Promise<void> {
  const number = index + 1
  const op = resolveOp(step.op, pidsOf(state.processes))
  const undo = step.undo ? resolveOp(step.undo, pidsOf(state.processes)) : null
  const record: StepRecord = {index, id: step.id, status: 'pending', undo}
  // An exclusive create (the state dir, an IP lease) is atomic, and when it fails the thing
  // is someone else's: its undo is written down just after it succeeds, never before (the
  // state dir holds the state file anyway). Every other artifact is written down first.
  // Steps without an undo (writes inside things already listed) ride along with the next save.
  const claim = op.kind === 'lease' || (op.kind === 'mkdir' && op.exclusive === true)
  if (!claim) {
    state.steps.push(record)
    if (undo) await save()
  }
  // for the eye, the process reference becomes its PID too
  hooks.onStep?.(step, number, 'ref' in op ? {...op, ref: resolveRefs(op.ref, pidsOf(state.processes))} : op)
  if (hooks.failStep === number) throw new Error(`injected failure (NODEDOC_SANDBOX_FAIL_STEP=${number})`)
  if (hooks.holdStep === number) await holdUntilAborted(hooks.aborted)
  // saved again only when the next step could not know it: a claim's undo, new PIDs, a note
  // (a step's 'done' rides along with the next save; its undo, if any, is on disk already)
  let changed = claim && Boolean(undo)
  try {
    const result = await ops.apply(op, state.processes)
    if (result?.processes) {
      Object.assign(state.processes, result.processes)
      changed = true
    }
    if (claim) state.steps.push(record)
  } catch (error) {
    if (!step.soft) throw error
    const message = `${step.id}: ${(error as Error).message}`
    state.notes.push(message)
    hooks.onWarning?.(message)
    changed = true
  }
  record.status = 'done'
  if (changed) await save()
  hooks.onStepDone?.(step, number)
}

/** How long a held step waits for an interruption: a closed output is only seen on the next write, after it. */
export const HOLD_MS = 3000

async function holdUntilAborted(aborted: (() => boolean) | undefined): Promise<void> {
  const until = Date.now() + HOLD_MS
  while (!aborted?.() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 5))
}

/**
 * Saves one at a time, as steps running at once ask: a call resolves once a save that began
 * after it has ended, so what the caller recorded is on disk; calls made while one waits share it.
 */
function serialSaves(saveNow: () => Promise<void>): () => Promise<void> {
  let last: Promise<void> = Promise.resolve()
  let next: Promise<void> | null = null
  return () => {
    if (next) return next
    const mine: Promise<void> = last.catch(() => undefined).then(() => {
      next = null
      return saveNow()
    })
    next = mine
    last = mine
    return mine
  }
}

/** Undoes every recorded step, newest first. Returns the problems it could not fix. */
export async function rollback(state: SandboxState, ops: SandboxOps): Promise<string[]> {
  state.phase = state.phase === 'creating' ? 'failed' : 'removing'
  const problems: string[] = []
  const undos = pendingUndo(state)
  // the last undo removes the state dir itself: save progress only while it exists
  await ops.saveState(state).catch(() => undefined)
  for (const undo of undos) problems.push(...(await ops.undo(undo, state.processes)))
  return problems
}
