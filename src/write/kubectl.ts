import * as execa from 'execa'
import {NodedocError} from '../errors.js'
import {interruptOn} from '../interrupt.js'
import {escapeControl} from '../output/escape.js'

// Runs the kubectl steps of `nodedoc kubectl` (planned in src/kubectl/debug-pod.ts): the one
// place that talks to a cluster. It creates and deletes a pod there, so it lives with the other
// code that changes things.

export class KubectlError extends NodedocError {}

export interface KubectlStep {
  /** What the step is for, for --dry-run and errors. */
  why: string
  argv: string[]
  /** Text fed on stdin (the pod manifest). */
  stdin?: string
  /** Output goes straight to the user (the nodedoc run itself). */
  stream?: boolean
  /** Asked again while it prints nothing (status not reported yet). */
  retryWhileEmpty?: boolean
}

const RETRIES = 20
const RETRY_MS = 500

async function runStep(step: KubectlStep): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const result = await execa.execa(step.argv[0], step.argv.slice(1), {
      reject: false,
      input: step.stdin,
      stdin: step.stdin === undefined ? 'ignore' : undefined,
      stdout: step.stream ? 'inherit' : 'pipe',
      stderr: step.stream ? 'inherit' : 'pipe',
    })
    if ((result as {code?: string}).code === 'ENOENT') throw new KubectlError(`${step.argv[0]} not found on PATH`)
    if (result.exitCode !== 0) {
      const said = String(result.stderr ?? '').trim().split('\n')[0]
      throw new KubectlError(`${step.why} failed (${step.argv.slice(0, 3).join(' ')} ...): ${said || `exit ${result.exitCode}`}`)
    }
    const out = String(result.stdout ?? '').trim()
    if (out || !step.retryWhileEmpty || attempt >= RETRIES) return out
    await new Promise((done) => setTimeout(done, RETRY_MS))
  }
}

/**
 * Runs the steps in order and the cleanup whatever happens (Ctrl-C included). Returns the
 * last step's output: nodedoc's exit code inside the pod.
 */
export async function runKubectl(steps: KubectlStep[], cleanup: KubectlStep): Promise<string> {
  const interrupt = interruptOn()
  try {
    let last = ''
    for (const step of steps) {
      if (interrupt.signal.aborted) throw new KubectlError(`interrupted (${interrupt.cause})`)
      last = await runStep(step)
    }
    return last
  } finally {
    interrupt.dispose()
    await runStep(cleanup).catch((error) => process.stderr.write(`warning: ${escapeControl((error as Error).message)}\n`))
  }
}
