import type {Host} from '../host/host.js'
import {hostPath} from '../host/host.js'
import type {PodReport} from '../pods/types.js'
import {type PodTarget, InsideError, podRef} from './target.js'
import type {EnterRecord, EnteredNamespace} from './types.js'

// `nsenter` into a pod's namespaces with a program of the node's own (tcpdump, dig, ss, curl):
// by default only the network namespace, so the program, its libraries and its files are the
// node's and only the network is the pod's. Nothing of the pod is run.

export type EnterNamespace = EnteredNamespace['type']

/** nsenter's flag and the /proc/<pid>/ns file for each namespace. */
const NSENTER: Record<EnterNamespace, {flag: string; file: string}> = {
  net: {flag: '--net', file: 'net'},
  mnt: {flag: '--mount', file: 'mnt'},
  pid: {flag: '--pid', file: 'pid'},
  uts: {flag: '--uts', file: 'uts'},
  ipc: {flag: '--ipc', file: 'ipc'},
}
const ORDER: EnterNamespace[] = ['net', 'mnt', 'pid', 'uts', 'ipc']

/**
 * Whose namespaces: the network alone is the pod's (every container shares the sandbox's), so
 * without -c it is entered through the sandbox's pause process; anything else is one
 * container's.
 */
export function planEnter(target: PodTarget, namespaces: EnterNamespace[], explicitContainer: boolean, argv: string[]): EnterRecord {
  const wanted = ORDER.filter((n) => namespaces.includes(n))
  const {pod, container} = target
  const netOnly = wanted.length === 1 && wanted[0] === 'net'
  const throughSandbox = netOnly && !explicitContainer && pod.sandbox.pid !== null
  const pid = throughSandbox ? pod.sandbox.pid! : container.pid!
  const inodes = throughSandbox ? pod.sandbox.namespaces : container.namespaces
  return {
    pod: podRef(pod),
    container: throughSandbox ? null : {name: container.name, id: container.id},
    pid,
    namespaces: wanted.map((type) => ({type, inode: inodes[type] ?? null, file: `/proc/${pid}/ns/${NSENTER[type].file}`})),
    argv,
  }
}

/** What entering would share with the node itself, said before it happens. */
export function enterNotes(pod: PodReport, plan: EnterRecord): string[] {
  const notes: string[] = []
  if (plan.namespaces.some((n) => n.type === 'net') && pod.hostNetwork) notes.push('this pod uses the node\'s network (hostNetwork): its network namespace is the node\'s own')
  if (plan.namespaces.some((n) => n.type === 'mnt')) notes.push('--mnt: the program and its libraries are looked up in the container\'s filesystem, and run as root with the node\'s capabilities')
  return notes
}

/** Runs argv under nsenter with the plan's namespaces; the program's exit code. */
export async function runEnter(host: Host, plan: EnterRecord): Promise<number> {
  if (!host.exec || host.root === undefined) throw new InsideError('enter runs a program on the live node; a snapshot has no namespaces to enter', 2)
  // the ns files as this process reaches them: under the root prefix (/host/proc/...) in a debug pod
  const nsenter = ['nsenter', ...plan.namespaces.map((n) => `${NSENTER[n.type].flag}=${hostPath(host.root!, n.file)}`), '--', ...plan.argv]
  const code = await host.exec(nsenter)
  if (code === undefined) throw new InsideError('nsenter not found: install util-linux', 3)
  return code
}
