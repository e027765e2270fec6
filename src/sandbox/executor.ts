// Runs a plan: records each step's undo in the state file before the step acts, applies it
// through SandboxOps (src/write/sandbox-ops.ts on the live machine), and on any
// failure or Ctrl-C undoes everything recorded, newest first.

import type {Op, ProcessMark, SandboxOps} from '../write/ops.js'
import {type Plan, type Step, resolveOp, resolveRefs} from './plan.js'
import {type SandboxState, pendingUndo} from './state.js'

export interface RunHooks {
  /** 1-based step number that fails on purpose (NODEDOC_SANDBOX_FAIL_STEP). */
  failStep?: number
  /** True once Ctrl-C arrived: stop before the next step and roll back. */
  aborted?: () => boolean
  /** Called before each step runs, with references resolved (for --explain). */
  onStep?: (step: Step, number: number, op: Op) => void
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

/** Applies every step; on failure rolls back and throws a SandboxStepError. */
export async function runPlan(plan: Plan, state: SandboxState, ops: SandboxOps, hooks: RunHooks = {}): Promise<SandboxState> {
  for (const [index, step] of plan.steps.entries()) {
    const number = index + 1
    try {
      if (hooks.aborted?.()) throw new SandboxAborted('interrupted', step, number, [])
      const op = resolveOp(step.op, pidsOf(state.processes))
      const undo = step.undo ? resolveOp(step.undo, pidsOf(state.processes)) : null
      // An exclusive create (the state dir, an IP lease) is atomic, and when it fails the thing
      // is someone else's: its undo is written down just after it succeeds, never before (the
      // state dir holds the state file anyway). Every other artifact is written down first.
      // Steps without an undo (writes inside things already listed) ride along with the next save.
      const claim = op.kind === 'lease' || (op.kind === 'mkdir' && op.exclusive === true)
      if (!claim) {
        state.steps.push({index, id: step.id, status: 'pending', undo})
        if (undo) await ops.saveState(state)
      }
      // for the eye, the process reference becomes its PID too
      hooks.onStep?.(step, number, 'ref' in op ? {...op, ref: resolveRefs(op.ref, pidsOf(state.processes))} : op)
      if (hooks.failStep === number) throw new Error(`injected failure (NODEDOC_SANDBOX_FAIL_STEP=${number})`)
      let changed = Boolean(undo)
      try {
        const result = await ops.apply(op, state.processes)
        if (result?.processes) {
          Object.assign(state.processes, result.processes)
          changed = true
        }
        if (claim) state.steps.push({index, id: step.id, status: 'pending', undo})
      } catch (error) {
        if (!step.soft) throw error
        const message = `${step.id}: ${(error as Error).message}`
        state.notes.push(message)
        hooks.onWarning?.(message)
        changed = true
      }
      state.steps[state.steps.length - 1].status = 'done'
      if (changed) await ops.saveState(state)
    } catch (error) {
      const problems = await rollback(state, ops)
      if (error instanceof SandboxAborted) throw new SandboxAborted(error.message, step, number, problems)
      throw new SandboxStepError(`step ${number} (${step.id}) failed: ${(error as Error).message}`, step, number, problems)
    }
  }
  state.phase = 'running'
  await ops.saveState(state)
  return state
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
