import {spawnSync} from 'node:child_process'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {itemsOf} from '../../helpers/volatile.js'

export const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
export const cli = join(repo, 'bin/run.js')

export interface DoctorLine {
  id: string
  status: 'PASS' | 'WARN' | 'FAIL' | 'SKIP'
  seen: string
  fix: string | null
  items?: any[]
}

/** `nodedoc doctor --check ... -o json`, optionally inside a netns or under a wrapper (setpriv ...); returns the lines and the exit status. */
export function doctor(checks: string[], options: {netns?: string; hostRoot?: string; under?: string[]} = {}): {results: DoctorLine[]; status: number | null; stderr: string} {
  const args = [cli, 'doctor', '-o', 'json', ...checks.flatMap((c) => ['--check', c]), ...(options.hostRoot ? ['--host-root', options.hostRoot] : [])]
  const wrapper = [...(options.netns ? ['ip', 'netns', 'exec', options.netns] : []), ...(options.under ?? [])]
  const argv = wrapper.length ? [wrapper[0], [...wrapper.slice(1), 'node', ...args]] as const : ['node', args] as const
  const r = spawnSync(argv[0], argv[1] as string[], {encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}})
  let results: DoctorLine[]
  try {
    results = itemsOf<DoctorLine>(JSON.parse(r.stdout))
  } catch {
    throw new Error(`doctor printed no JSON (exit ${r.status}): ${r.stderr}`)
  }
  return {results, status: r.status, stderr: r.stderr}
}

export function byId(results: DoctorLine[], id: string): DoctorLine {
  const line = results.find((r) => r.id === id)
  if (!line) throw new Error(`no ${id} in doctor output`)
  return line
}

export const suffix = () => Math.random().toString(36).slice(2, 8)
