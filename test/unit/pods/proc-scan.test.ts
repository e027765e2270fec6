// One pass over /proc (src/pods/proc-scan.ts) on the example snapshot and on this machine: what
// it says of each process is what the process's own stat, status and cmdline files say, read
// one by one; and a host without readFiles gives the same scan.
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import type {Host} from '../../../src/host/host.js'
import {LiveHost} from '../../../src/host/live.js'
import {SnapshotHost} from '../../../src/host/snapshot.js'
import {identifyProcCgroup, parseProcCgroup} from '../../../src/parse/cgroup.js'
import {parseCmdline, parseProcStat, parseProcStatus} from '../../../src/parse/proc.js'
import {scanProcesses} from '../../../src/pods/proc-scan.js'
import {REPO} from '../../e2e/node/cli.js'

const EXAMPLE = join(REPO, 'examples/containerd-node')

/** The same host without readFiles: every file through readFile, as a host that lacks it. */
function oneByOne(host: Host): Host {
  return new Proxy(host, {get: (target, key) => (key === 'readFiles' ? undefined : Reflect.get(target, key, target))})
}

describe('scanProcesses on the example snapshot', async () => {
  const host = await SnapshotHost.open(EXAMPLE)
  const procs = await scanProcesses(host)
  const file = (pid: number, name: string) => readFileSync(join(EXAMPLE, 'fs/proc', String(pid), name), 'utf8')

  it('finds processes, in and out of pods', () => {
    expect(procs.length).toBeGreaterThan(10)
    expect(procs.some((p) => p.identity.podUid)).toBe(true)
    expect(procs.some((p) => !p.identity.podUid)).toBe(true)
  })

  it.each([5863, 5953, 6042, 6130])('process %i as its own files say', (pid) => {
    const p = procs.find((q) => q.pid === pid)!
    const stat = parseProcStat(file(pid, 'stat'))!
    const status = parseProcStatus(file(pid, 'status'))!
    expect(p).toEqual({
      pid, ppid: stat.ppid, state: stat.state, comm: stat.comm, argv: parseCmdline(file(pid, 'cmdline')),
      nsPid: status.nsPid.at(-1), status, cgroup: parseProcCgroup(file(pid, 'cgroup')),
      identity: identifyProcCgroup(parseProcCgroup(file(pid, 'cgroup'))),
    })
  })

  it('reads the same through a host without readFiles, filtered or not', async () => {
    const plain = oneByOne(await SnapshotHost.open(EXAMPLE))
    expect(await scanProcesses(plain)).toEqual(procs)
    const inPods = (i: {podUid: string | null}) => i.podUid !== null
    expect(await scanProcesses(host, inPods)).toEqual(procs.filter((p) => p.identity.podUid !== null))
    expect(await scanProcesses(plain, inPods, [6042, 5863, 1, 999999])).toEqual(procs.filter((p) => [6042, 5863].includes(p.pid) && p.identity.podUid))
  })
})

describe('scanProcesses on this machine', () => {
  it('agrees with each process\'s stat (kernel threads included)', async () => {
    const stats = () => {
      const byPid = new Map<number, ReturnType<typeof parseProcStat>>()
      for (const name of readdirSync('/proc')) {
        if (!/^\d+$/.test(name)) continue
        try {
          byPid.set(Number(name), parseProcStat(readFileSync(`/proc/${name}/stat`, 'utf8')))
        } catch {
          // exited since
        }
      }
      return byPid
    }
    // a process that execs or renames itself while the scan runs (a container starting on a
    // shared machine) has no one answer: only those the same before and after are compared
    const before = stats()
    const procs = await scanProcesses(new LiveHost('/'))
    const after = stats()
    let compared = 0
    for (const p of procs) {
      const stat = after.get(p.pid)
      const was = before.get(p.pid)
      if (!stat || !was || was.comm !== stat.comm || was.startTime !== stat.startTime) continue
      // a kworker's name carries the work it runs now, which changes from one read to the next
      if (stat.comm.startsWith('kworker/')) continue
      expect(p.comm, String(p.pid)).toBe(stat.comm)
      compared++
    }
    expect(compared).toBeGreaterThan(10)
    expect(procs.find((p) => p.pid === process.pid)).toMatchObject({ppid: process.ppid, state: 'R', argv: process.argv.length ? expect.any(Array) : []})
  })
})
