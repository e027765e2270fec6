// Taking a sandbox's cgroups away: kill what is inside, wait for the kernel to let go, rmdir.

import {rmdirSync} from 'node:fs'
import {readFile, readdir} from 'node:fs/promises'
import {join} from 'node:path'
import {exists} from './programs.js'
import {errno} from './run.js'

/** Kills every process in a cgroup subtree, waits for it to empty, removes it deepest first. */
export async function removeCgroupTree(root: string): Promise<string[]> {
  if (!(await exists(root))) return []
  const dirs: string[] = []
  const walk = async (dir: string) => {
    dirs.push(dir)
    for (const e of await readdir(dir, {withFileTypes: true}).catch(() => [])) if (e.isDirectory()) await walk(join(dir, e.name))
  }
  await walk(root)
  await killCgroupMembers(dirs)
  const problems: string[] = []
  for (const dir of dirs.reverse()) {
    const problem = await rmdirWhenEmpty(dir)
    if (problem) problems.push(problem)
  }
  return problems
}

async function killCgroupMembers(dirs: string[]): Promise<void> {
  const deadline = Date.now() + 5000
  for (;;) {
    let alive = 0
    for (const dir of dirs) {
      const procs = await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '')
      for (const p of procs.split('\n').filter(Boolean)) {
        alive++
        try {
          process.kill(Number(p), 'SIGKILL')
        } catch {}
      }
    }
    if (!alive || Date.now() > deadline) return
    await new Promise((r) => setTimeout(r, 10))
  }
}

async function rmdirWhenEmpty(dir: string): Promise<string | undefined> {
  for (let attempt = 0; ; attempt++) {
    try {
      // in place: a cgroupfs rmdir returns in under 1 ms (see sandbox-ops.ts filesAt)
      rmdirSync(dir)
      return undefined
    } catch (error) {
      if (errno(error) === 'ENOENT') return undefined
      // a killed task leaves the cgroup a moment after it dies
      if (errno(error) === 'EBUSY' && attempt < 200) {
        await new Promise((r) => setTimeout(r, 10))
        continue
      }
      return `rmdir ${dir}: ${errno(error)}`
    }
  }
}
