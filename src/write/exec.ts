// `sandbox exec`: a command joins a running container, as `crictl exec` does.

import {spawn} from 'node:child_process'
import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {childOf} from './processes.js'

/**
 * Runs argv inside a container: held at a gate until it has joined the container's cgroups,
 * then exec'd with the container's namespaces, root and capabilities. stdio is the caller's.
 * Resolves to the exit code.
 */
export async function execGated(chain: string[], gated: 'self' | 'child', cgroupDirs: string[], env: Record<string, string>): Promise<number> {
  const child = spawn(chain[0], chain.slice(1), {stdio: ['inherit', 'inherit', 'inherit', 'pipe'], env})
  const done = new Promise<number>((resolve, reject) => {
    child.on('error', (e) => reject(new Error(`${chain[0]}: ${e.message}`)))
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 + (({SIGKILL: 9, SIGTERM: 15, SIGINT: 2} as Record<string, number>)[signal] ?? 1) : 1)))
  })
  const gate = child.stdio[3] as NodeJS.WritableStream
  gate.on('error', () => undefined)
  if (child.pid === undefined) return done
  try {
    const held = gated === 'child' ? await childOf(child.pid) : child.pid
    for (const dir of cgroupDirs) await writeFile(join(dir, 'cgroup.procs'), String(held))
    gate.write('\n')
    gate.end()
  } catch (error) {
    child.kill('SIGKILL')
    await done.catch(() => undefined)
    throw error
  }
  return done
}
