import type {Host} from '../../host/host.js'
import {type Check, listOf, pass, warn} from '../check.js'
import {scanProcesses} from '../facts/processes.js'

export interface Zombie {
  pid: number
  ppid: number
  comm: string
  parentComm: string | null
  podUid: string | null
  containerId: string | null
}

export interface ZombiesFacts {
  zombies: Zombie[]
}

export const zombies: Check<ZombiesFacts> = {
  id: 'zombies',
  area: 'pods',
  title: 'no zombie processes',
  why: 'a zombie is a child its parent never reaped; they pile up in containers whose PID 1 is not an init, hold PIDs and count against pids.max',
  async gather(host: Host) {
    const procs = await scanProcesses(host)
    const byPid = new Map(procs.map((p) => [p.pid, p]))
    return {
      zombies: procs.filter((p) => p.state === 'Z').map((p) => {
        const parent = byPid.get(p.ppid)
        // a zombie has left its cgroup; its parent has not
        return {pid: p.pid, ppid: p.ppid, comm: p.comm, parentComm: parent?.comm ?? null, podUid: p.podUid ?? parent?.podUid ?? null, containerId: p.containerId ?? parent?.containerId ?? null}
      }),
    }
  },
  evaluate({zombies: all}) {
    let found = all
    if (found.length === 0) return pass('none')
    const describe = (z: Zombie) => `${z.pid} ${z.comm} (parent ${z.ppid} ${z.parentComm ?? '?'}${z.podUid ? `, pod ${z.podUid}` : ''})`
    const inPods = found.filter((z) => z.podUid).length
    // the ones in pods first: they are what a Kubernetes operator can act on
    found = [...found.filter((z) => z.podUid), ...found.filter((z) => !z.podUid)]
    return warn(`${found.length} zombie${found.length > 1 ? 's' : ''}${inPods ? `, ${inPods} in pods` : ''}: ${listOf(found.map(describe))}`,
      'the parent must wait() for its children: give the container an init (tini, dumb-init, or shareProcessNamespace: true so pause reaps), or fix/restart the parent', found)
  },
}
