// Pod-level findings provoked for real: pod cgroups under a kubepods root with a unique name
// (kubepods-nd<random>), a process with every capability and a zombie placed inside them.
import {type ChildProcess, spawn} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, rmdirSync} from 'node:fs'
import {randomUUID} from 'node:crypto'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {byId, doctor, suffix} from './helpers.js'

const controller = '/sys/fs/cgroup/pids'
const root = join(controller, `kubepods-nd${suffix()}`)
const leakedUid = randomUUID()
const privUid = randomUUID()
const zombieUid = randomUUID()
const ctr = (c: string) => c.repeat(64)
const dirs = [
  join(root, `pod${leakedUid}`),
  join(root, `pod${privUid}`), join(root, `pod${privUid}`, ctr('a')), join(root, `pod${privUid}`, ctr('b')),
  join(root, `pod${zombieUid}`), join(root, `pod${zombieUid}`, ctr('c')),
]
const children: ChildProcess[] = []

function startIn(cgroup: string, argv: string[]): ChildProcess {
  // the shell joins the cgroup before it execs, so everything it forks starts inside
  const child = spawn('sh', ['-c', `echo $$ > ${cgroup}/cgroup.procs && exec "$@"`, 'sh', ...argv], {stdio: 'ignore'})
  children.push(child)
  return child
}

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 20))
}

// cgroup v1 with a pids controller, as on this machine and CI; a v2-only host has no /sys/fs/cgroup/pids
const haveV1Pids = existsSync(join(controller, 'cgroup.procs'))

beforeAll(async () => {
  if (!haveV1Pids) return
  for (const dir of dirs) mkdirSync(dir, {recursive: true})
  const priv = startIn(join(root, `pod${privUid}`, ctr('a')), ['sleep', '120'])
  // same pod, a container whose process holds no capability at all
  startIn(join(root, `pod${privUid}`, ctr('b')), ['setpriv', '--bounding-set=-all', '--inh-caps=-all', 'sleep', '120'])
  // "sleep 0 &" forks a child; exec replaces the shell with a sleep that never reaps it
  startIn(join(root, `pod${zombieUid}`, ctr('c')), ['sh', '-c', 'sleep 0 & exec sleep 120'])
  await waitFor(() => readFileSync(join(root, `pod${privUid}`, ctr('b'), 'cgroup.procs'), 'utf8').trim() !== '' && readFileSync(join(root, `pod${zombieUid}`, ctr('c'), 'cgroup.procs'), 'utf8').trim() !== '')
  await new Promise((r) => setTimeout(r, 300))
  expect(priv.pid).toBeGreaterThan(0)
})

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL')
  await new Promise((r) => setTimeout(r, 200))
  for (const dir of [...dirs].reverse()) if (existsSync(dir)) rmdirSync(dir)
  if (existsSync(root)) rmdirSync(root)
})

describe.skipIf(!haveV1Pids)('doctor pod checks on real cgroups and processes', () => {
  it('leaked-cgroups: the empty pod cgroup the test made is reported, the busy ones are not', () => {
    const line = byId(doctor(['leaked-cgroups']).results, 'leaked-cgroups')
    expect(line.status).toBe('WARN')
    const paths = line.items!.map((i) => i.path)
    expect(paths).toContain(join(root, `pod${leakedUid}`))
    expect(paths).not.toContain(join(root, `pod${privUid}`))
    expect(paths).not.toContain(join(root, `pod${zombieUid}`))
  })

  it('privileged: the root sleep with every capability is named with its pod, the capless one is not', () => {
    const line = byId(doctor(['privileged']).results, 'privileged')
    expect(line.status).toBe('WARN')
    const mine = line.items!.filter((i) => i.podUid === privUid)
    expect(mine.map((i) => [i.comm, i.containerId])).toEqual([['sleep', ctr('a')]])
    // other suites' pods may be listed first: the line names the first three and counts the rest
    expect(line.seen).toMatch(/^\d+ containers? with every capability: pod /)
  })

  it('zombies: the unreaped child is found and tied to its pod through its parent', () => {
    const line = byId(doctor(['zombies']).results, 'zombies')
    expect(line.status).toBe('WARN')
    const mine = line.items!.filter((z) => z.podUid === zombieUid)
    expect(mine).toHaveLength(1)
    expect(mine[0]).toMatchObject({comm: 'sleep', parentComm: 'sleep', containerId: ctr('c')})
    expect(line.seen).toMatch(/^\d+ zombies?, \d+ in pods: /)
  })

  it('memory-requests adds up the pods with processes, not the leaked one', () => {
    const line = byId(doctor(['memory-requests']).results, 'memory-requests')
    expect(['PASS', 'WARN', 'FAIL']).toContain(line.status)
    expect(line.items!.map((p) => p.podUid)).toEqual(expect.arrayContaining([privUid, zombieUid]))
    expect(line.items!.map((p) => p.podUid)).not.toContain(leakedUid)
  })
})
