import {describe, expect, it} from 'vitest'
import {HOLD_MS, SandboxAborted, SandboxStepError, runPlan} from '../../../src/sandbox/executor.js'
import type {Plan, Step} from '../../../src/sandbox/plan.js'
import type {Op, SandboxOps, Undo} from '../../../src/write/ops.js'
import {STATE_VERSION, type SandboxState} from '../../../src/sandbox/state.js'

/** Records what the executor asks for; the "machine" is a set of artifacts. */
class FakeOps implements SandboxOps {
  readonly made = new Set<string>()
  readonly calls: string[] = []
  readonly saved: Array<{pending: string[]; done: string[]}> = []
  constructor(private readonly failOn?: string, private readonly softFail?: string) {}

  async apply(op: Op): Promise<{processes?: Record<string, {pid: number; startTime: number}>} | void> {
    const key = keyOf(op)
    this.calls.push(`apply ${key}`)
    if (this.failOn === key) throw new Error('EBUSY')
    if (this.softFail === key) throw new Error('EACCES')
    if (op.kind === 'mkdir' && op.exclusive && this.made.has(key)) throw new Error('exists')
    // the machine keeps what has an undo: dirs, processes, links (not the settings made on them)
    if (op.kind === 'mkdir' || op.kind === 'spawnPause') this.made.add(key)
    if (op.kind === 'run' && op.argv.slice(0, 3).join(' ') === 'ip link add') this.made.add(`run ip link del ${op.argv[3]}`)
    if (op.kind === 'spawnPause') return {processes: {pause: {pid: 4242, startTime: 1}}}
  }

  async undo(undo: Undo): Promise<string[]> {
    const key = 'path' in undo ? `mkdir ${undo.path}` : undo.kind === 'kill' ? 'spawn' : `run ${undo.argv.join(' ')}`
    this.calls.push(`undo ${key}`)
    this.made.delete(key)
    return []
  }

  async saveState(state: SandboxState): Promise<void> {
    this.saved.push({pending: state.steps.filter((s) => s.status === 'pending').map((s) => s.id), done: state.steps.filter((s) => s.status === 'done').map((s) => s.id)})
  }
}

function keyOf(op: Op): string {
  if (op.kind === 'mkdir') return `mkdir ${op.path}`
  if (op.kind === 'spawnPause') return 'spawn'
  if (op.kind === 'run') return `run ${op.argv.join(' ')}`
  return op.kind
}

const steps: Step[] = [
  {id: 'state.dir', why: '', op: {kind: 'mkdir', path: '/s', exclusive: true}, undo: {kind: 'removeTree', path: '/s'}},
  {id: 'cg', why: '', op: {kind: 'mkdir', path: '/cg'}, undo: {kind: 'cgroupTree', path: '/cg'}},
  {id: 'pause', why: '', op: {kind: 'spawnPause', argv: ['sleep'], gated: 'self', ready: 'sleep'}, undo: {kind: 'kill', ref: '{pause}'}},
  {id: 'oom', why: '', op: {kind: 'oomScoreAdj', ref: '{pause}', value: -998}, undo: null, soft: true},
  {id: 'veth', why: '', op: {kind: 'run', argv: ['ip', 'link', 'add', 'v', 'netns', '{pause}']}, undo: {kind: 'run', argv: ['ip', 'link', 'del', 'v']}},
  {id: 'up', why: '', op: {kind: 'run', argv: ['ip', 'link', 'set', 'v', 'up']}, undo: null},
]
const plan = (): Plan => ({steps, warnings: [], info: {} as Plan['info']})
function state(): SandboxState {
  return {version: STATE_VERSION, name: 'x', namespace: 'default', podUid: 'u', sandboxId: 's', isolation: 'full', createdAt: '', phase: 'creating', manifest: {} as SandboxState['manifest'], qos: 'BestEffort', cgroup: {} as SandboxState['cgroup'], podLimits: {} as SandboxState['podLimits'], lowerDir: '', podIp: null, hostVeth: null, containers: [], processes: {}, steps: [], notes: []}
}

describe('runPlan', () => {
  it('writes each step down before it runs and resolves process references', async () => {
    const ops = new FakeOps()
    const s = await runPlan(plan(), state(), ops)
    expect(s.phase).toBe('running')
    expect(ops.calls).toContain('apply run ip link add v netns 4242')
    // before the veth is made, the state already lists it as pending with its undo
    const beforeVeth = ops.saved.find((x) => x.pending.includes('veth'))!
    expect(beforeVeth.done).toEqual(['state.dir', 'cg', 'pause', 'oom'])
    expect(s.steps.find((x) => x.id === 'veth')!.undo).toEqual({kind: 'run', argv: ['ip', 'link', 'del', 'v']})
    expect(s.processes.pause.pid).toBe(4242)
  })

  it.each([1, 2, 3, 4, 5, 6])('fails step %d on request and undoes all made, newest first', async (k) => {
    const ops = new FakeOps()
    const error = await runPlan(plan(), state(), ops, {failStep: k}).catch((e) => e)
    expect(error).toBeInstanceOf(SandboxStepError)
    expect(error.message).toBe(`step ${k} (${steps[k - 1].id}) failed: injected failure (NODEDOC_SANDBOX_FAIL_STEP=${k})`)
    expect(ops.made.size).toBe(0)
    const undone = ops.calls.filter((c) => c.startsWith('undo')).map((c) => c.slice(5))
    const expected = ['run ip link del v', 'spawn', 'mkdir /cg', 'mkdir /s'].filter((u) => {
      const at = {'mkdir /s': 1, 'mkdir /cg': 2, spawn: 3, 'run ip link del v': 5}[u]!
      return at <= k && !(k === 1 && at === 1)
    })
    expect(undone).toEqual(expected)
  })

  it('rolls back when a step really fails', async () => {
    const ops = new FakeOps('run ip link set v up')
    const error = await runPlan(plan(), state(), ops).catch((e) => e)
    expect(error.message).toBe('step 6 (up) failed: EBUSY')
    expect(ops.made.size).toBe(0)
  })

  it('rolls back when saving the state fails after the last step', async () => {
    const ops = new FakeOps()
    const save = ops.saveState.bind(ops)
    ops.saveState = async (s: SandboxState) => {
      if (s.phase === 'running') throw new Error('ENOSPC')
      return save(s)
    }
    const error = await runPlan(plan(), state(), ops).catch((e) => e)
    expect(error).toBeInstanceOf(SandboxStepError)
    expect(error.message).toBe('saving the state after the last step failed: ENOSPC')
    expect(ops.made.size).toBe(0)
    expect(ops.calls.filter((c) => c.startsWith('undo')).map((c) => c.slice(5))).toEqual(['run ip link del v', 'spawn', 'mkdir /cg', 'mkdir /s'])
  })

  it('stops and rolls back on Ctrl-C', async () => {
    const ops = new FakeOps()
    let n = 0
    const error = await runPlan(plan(), state(), ops, {aborted: () => ++n > 3}).catch((e) => e)
    expect(error).toBeInstanceOf(SandboxAborted)
    expect(error.number).toBe(4)
    expect(ops.calls.filter((c) => c.startsWith('apply'))).toHaveLength(3)
    expect(ops.made.size).toBe(0)
  })

  it('holds the step asked for until the create is interrupted, then rolls back from there', async () => {
    const ops = new FakeOps()
    let interrupted = false
    const printed: number[] = []
    const run = runPlan(plan(), state(), ops, {holdStep: 3, aborted: () => interrupted, onStep: (_s, n) => printed.push(n)}).catch((e) => e)
    await new Promise((resolve) => setTimeout(resolve, 100))
    // printed, not applied, nothing after it started
    expect(printed).toEqual([1, 2, 3])
    expect(ops.calls.filter((c) => c.startsWith('apply'))).toEqual(['apply mkdir /s', 'apply mkdir /cg'])
    interrupted = true
    const error = await run
    expect(error).toBeInstanceOf(SandboxAborted)
    expect(error.number).toBe(4)
    expect(ops.made.size).toBe(0)
  })

  it('lets a held step go on by itself when nothing interrupts it', async () => {
    const ops = new FakeOps()
    const started = Date.now()
    const s = await runPlan(plan(), state(), ops, {holdStep: 2, aborted: () => false})
    expect(s.phase).toBe('running')
    expect(Date.now() - started).toBeGreaterThanOrEqual(HOLD_MS - 50)
  })

  it('keeps going past a soft failure and notes it', async () => {
    const ops = new FakeOps(undefined, 'oomScoreAdj')
    const warnings: string[] = []
    const s = await runPlan(plan(), state(), ops, {onWarning: (w) => warnings.push(w)})
    expect(s.phase).toBe('running')
    expect(s.notes).toEqual(['oom: EACCES'])
    expect(warnings).toEqual(['oom: EACCES'])
  })

  it("never removes another sandbox's IP lease when its own claim fails", async () => {
    const ops = new FakeOps('lease')
    const withLease: Plan = {...plan(), steps: [steps[0], {id: 'lease', why: '', op: {kind: 'lease', path: '/ipam/10.250.0.2', content: 'x'}, undo: {kind: 'unlink', path: '/ipam/10.250.0.2'}}, ...steps.slice(1)]}
    const error = await runPlan(withLease, state(), ops).catch((e) => e)
    expect(error.message).toBe('step 2 (lease) failed: EBUSY')
    expect(ops.calls.filter((c) => c.startsWith('undo'))).toEqual(['undo mkdir /s'])
  })

  it("never removes another sandbox's dir on a name clash", async () => {
    const ops = new FakeOps()
    ops.made.add('mkdir /s')
    const error = await runPlan(plan(), state(), ops).catch((e) => e)
    expect(error.message).toBe('step 1 (state.dir) failed: exists')
    expect(ops.calls.filter((c) => c.startsWith('undo'))).toEqual([])
    expect(ops.made.has('mkdir /s')).toBe(true)
  })

  it('runs the steps that do not wait for each other at once, and rolls back only once the running ones are done', async () => {
    const log: string[] = []
    let release!: () => void
    const slow = new Promise<void>((r) => (release = r))
    const ops = new (class extends FakeOps {
      async apply(op: Op): Promise<{processes?: Record<string, {pid: number; startTime: number}>} | void> {
        const key = keyOf(op)
        log.push(`start ${key}`)
        if (key === 'mkdir /slow') await slow
        if (key === 'mkdir /fails') {
          setTimeout(release, 20)
          throw new Error('EIO')
        }
        const result = await super.apply(op)
        log.push(`end ${key}`)
        return result
      }
    })()
    const lanes: Step[] = [
      steps[0],
      {id: 'slow', why: '', op: {kind: 'mkdir', path: '/slow'}, undo: {kind: 'removeTree', path: '/slow'}, after: ['state.dir']},
      {id: 'after-slow', why: '', op: {kind: 'mkdir', path: '/after-slow'}, undo: {kind: 'removeTree', path: '/after-slow'}},
      {id: 'fails', why: '', op: {kind: 'mkdir', path: '/fails'}, undo: null, after: ['state.dir']},
    ]
    const error = await runPlan({...plan(), steps: lanes}, state(), ops).catch((e) => e)
    expect(error.message).toBe('step 4 (fails) failed: EIO')
    // both lanes started (the slow step once its undo was saved); nothing started after the
    // failure, the slow step finished, and then its undo ran
    expect(log).toEqual(['start mkdir /s', 'end mkdir /s', 'start mkdir /fails', 'start mkdir /slow', 'end mkdir /slow'])
    expect(ops.calls.filter((c) => c.startsWith('undo'))).toEqual(['undo mkdir /slow', 'undo mkdir /s'])
    expect(ops.made.size).toBe(0)
  })

  it('lets a pending interruption in before a gate opens, when the steps before it end without a pause', async () => {
    const ops = new FakeOps()
    let interrupted = false
    const gated: Step[] = [steps[0], steps[1], {id: 'release', why: '', op: {kind: 'release', container: 'app'}, undo: null}]
    // as a failed write to a closed output is reported: on the next tick, after the step that wrote
    const error = await runPlan({...plan(), steps: gated}, state(), ops, {aborted: () => interrupted, onStep: (step) => step.id === 'cg' && process.nextTick(() => (interrupted = true))}).catch((e) => e)
    expect(error).toBeInstanceOf(SandboxAborted)
    expect(ops.calls).not.toContain('apply release')
    expect(ops.made.size).toBe(0)
  })
})
