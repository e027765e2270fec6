import type {Host} from '../host/host.js'
import type {CgroupIdentity} from '../parse/cgroup.js'
import {readLogNames} from './log-files.js'
import {indexPods} from './pod-index.js'
import {commandLine, scanProcesses} from './proc-scan.js'
import type {ProcessRecord} from './types.js'

/**
 * Every process on the node, each tied to its pod and container where it has one. podsOnly:
 * the processes of pods alone (what `ps` shows without -A, --zombies or --unowned); the others'
 * cgroup files are read to tell, not their status and cmdline.
 */
export async function gatherProcesses(host: Host, options: {podsOnly?: boolean} = {}): Promise<ProcessRecord[]> {
  const procs = await scanProcesses(host, options.podsOnly ? inPod : undefined)
  // ps shows names only: the log folders' names, not their files
  const index = await indexPods(host, procs, await readLogNames(host))
  const owner = new Map<number, Pick<ProcessRecord, 'pod' | 'container' | 'sandbox'>>()
  for (const pod of index.pods.values()) {
    const ref = {namespace: pod.namespace, name: pod.name, uid: pod.uid}
    for (const c of pod.containers.values()) {
      for (const p of c.procs) owner.set(p.pid, {pod: ref, container: {name: c.sandbox ? 'POD' : c.name, id: c.id}, ...(c.sandbox ? {sandbox: true} : {})})
    }
    for (const p of pod.podLevelProcs) owner.set(p.pid, {pod: ref, container: null})
  }
  return procs.map((p) => ({
    pid: p.pid,
    ppid: p.ppid,
    nsPid: p.nsPid,
    state: p.state,
    command: commandLine(p),
    pod: null,
    container: null,
    ...owner.get(p.pid),
  }))
}

/** A process indexPods puts in a pod: a pod's cgroup, not CRI-O's conmon. */
function inPod(identity: CgroupIdentity): boolean {
  return Boolean(identity.podUid) && !identity.conmon
}
