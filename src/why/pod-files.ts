// What `why` reads about one pod beyond `pod`'s report: its resolv.conf as the container sees it,
// the sockets of its network namespace, what the runtime wrote about its containers' exits, its
// bridge port's hairpin mode, the last lines of a container's log.

import type {Host} from '../host/host.js'
import type {ContainerReport, PodReport} from '../pods/types.js'
import {parseCriLog} from '../parse/cri-log.js'
import {type ResolvConf, parseResolvConf} from '../parse/resolv-conf.js'
import {type ContainerExit, parseContainerdStatus, parseCrioExit} from '../parse/runtime-status.js'
import {type InetSocket, parseProcNetSockets} from '../parse/sockets.js'
import {printableLine} from '../output/escape.js'

/** resolv.conf is a few hundred bytes; a bigger one is not read (the pod controls it). */
export const RESOLV_CONF_MAX_BYTES = 64 * 1024

export type ResolvRead =
  | {path: string; via: 'mount' | 'root'; container: string; conf: ResolvConf}
  | {problem: string}

/** The running container a pod's files are read through (the first by name). */
export function runningContainer(pod: PodReport): ContainerReport | undefined {
  return pod.containers.find((c) => c.state === 'running' && c.pid !== null)
}

/**
 * The pod's /etc/resolv.conf as its container sees it: the host file bind-mounted there (the
 * runtime's sandbox copy, per the container's mountinfo), else the file under
 * /proc/<pid>/root, refusing a symbolic link there (an absolute link would resolve on the node).
 */
export async function readResolvConf(host: Host, pod: PodReport): Promise<ResolvRead> {
  const container = runningContainer(pod)
  if (!container) return {problem: 'no container of the pod runs: its mounts cannot be read'}
  const name = container.name ?? container.id.slice(0, 13)
  const mount = container.mounts.find((m) => m.destination === '/etc/resolv.conf')
  let path: string | undefined
  let via: 'mount' | 'root' = 'mount'
  if (mount && mount.source.startsWith('/') && (await host.stat(mount.source))?.kind === 'file') path = mount.source
  else {
    via = 'root'
    const root = `/proc/${container.pid}/root`
    const [etc, file] = await Promise.all([host.stat(`${root}/etc`), host.stat(`${root}/etc/resolv.conf`)])
    if (etc?.kind !== 'dir') return {problem: `${root}/etc is ${etc ? `a ${etc.kind}` : 'missing'}: not followed (pod-controlled)`}
    if (!file) return {problem: `container ${name} has no /etc/resolv.conf (${root}/etc/resolv.conf)`}
    if (file.kind !== 'file') return {problem: `${root}/etc/resolv.conf is a ${file.kind}: not followed (pod-controlled)`}
    path = `${root}/etc/resolv.conf`
  }
  const size = (await host.stat(path))?.size ?? 0
  if (size > RESOLV_CONF_MAX_BYTES) return {problem: `${path} is ${size} bytes, over the ${RESOLV_CONF_MAX_BYTES}-byte cap: not read`}
  const text = await host.readFile(path)
  if (text === undefined) return {problem: `${path} could not be read`}
  return {path, via, container: name, conf: parseResolvConf(text.slice(0, RESOLV_CONF_MAX_BYTES))}
}

/** The process whose /proc/<pid>/net shows the pod's network namespace. */
export function netnsPid(pod: PodReport): number | null {
  return pod.sandbox.pid ?? runningContainer(pod)?.pid ?? null
}

/** Sockets of the network namespace a process is in. */
export async function readSockets(host: Host, pid: number): Promise<InetSocket[]> {
  const files = [['tcp', 'tcp', 'ipv4'], ['tcp6', 'tcp', 'ipv6'], ['udp', 'udp', 'ipv4'], ['udp6', 'udp', 'ipv6']] as const
  const texts = await Promise.all(files.map(([file]) => host.readFile(`/proc/${pid}/net/${file}`)))
  return texts.flatMap((text, i) => (text ? parseProcNetSockets(text, files[i][1], files[i][2]).sockets : []))
}

export const CONTAINERD_CRI_ROOT = '/var/lib/containerd/io.containerd.grpc.v1.cri'
const CRIO_EXITS = ['/run/crio/exits', '/var/run/crio/exits']

/** What the runtime wrote about a container's last run; null when it wrote nothing we know. */
export async function readContainerExit(host: Host, containerId: string): Promise<(ContainerExit & {source: string}) | null> {
  if (!/^[0-9a-f]{12,64}$/.test(containerId)) return null
  const statusPath = `${CONTAINERD_CRI_ROOT}/containers/${containerId}/status`
  const status = await host.readFile(statusPath)
  if (status !== undefined) {
    try {
      return {...parseContainerdStatus(status), source: statusPath}
    } catch (error) {
      host.warnings.add(`bad:${statusPath}`, `unreadable runtime status (${(error as Error).message})`, statusPath)
    }
  }
  for (const dir of CRIO_EXITS) {
    const text = await host.readFile(`${dir}/${containerId}`)
    const code = text === undefined ? null : parseCrioExit(text)
    if (code !== null) return {pid: null, exitCode: code, reason: null, message: null, startedAt: null, finishedAt: null, source: `${dir}/${containerId}`}
  }
  return null
}

/** A bridge port's hairpin_mode (1: the bridge may send a frame back out the port it came in); null when not a bridge port. */
export async function readHairpinMode(host: Host, veth: string): Promise<number | null> {
  if (!/^[\w.@-]{1,15}$/.test(veth)) return null
  const text = await host.readFile(`/sys/class/net/${veth}/brport/hairpin_mode`)
  return text === undefined ? null : Number(text.trim())
}

/** The last `lines` entries of one log file (its tail only), escaped for a terminal. */
export async function lastLogLines(host: Host, path: string, lines = 3): Promise<string[]> {
  // the size a snapshot keeps of a log: a smaller tail read here would shrink what it recorded
  const text = await host.readFile(path, {tailBytes: 16 * 1024})
  if (!text) return []
  return parseCriLog(text).entries.slice(-lines).map((e) => printableLine(e.text))
}

/** The log file of a container's newest (or, with previous, the one before) instance. */
export function containerLogFile(pod: PodReport, container: string, previous = false): {path: string; restart: number | null} | undefined {
  const files = pod.logs.filter((l) => l.container === container && !l.path.endsWith('.gz'))
  const restarts = [...new Set(files.map((f) => f.restart ?? 0))].sort((a, b) => a - b)
  const restart = restarts.at(previous ? -2 : -1)
  if (restart === undefined) return undefined
  // the live file of that instance: "<n>.log", not a rotated "<n>.log.<time>"
  const file = files.find((f) => (f.restart ?? 0) === restart && /\/\d+\.log$/.test(f.path)) ?? files.filter((f) => (f.restart ?? 0) === restart).at(-1)
  return file ? {path: file.path, restart} : undefined
}

/** Container IDs of a container's instances, newest first, from the /var/log/containers links. */
export function instanceIds(pod: PodReport, container: string): Array<{id: string; restart: number | null}> {
  const out: Array<{id: string; restart: number | null}> = []
  for (const file of pod.logs.filter((l) => l.container === container)) {
    for (const link of file.links) {
      const id = /-([0-9a-f]{64})\.log$/.exec(link)?.[1]
      if (id && !out.some((o) => o.id === id)) out.push({id, restart: file.restart})
    }
  }
  return out.sort((a, b) => (b.restart ?? 0) - (a.restart ?? 0))
}

/**
 * Whether a path is there. Absence counts only where a parent (or grandparent) folder is there
 * to hold it: a snapshot that never recorded the path, or its folder, says nothing either way.
 */
export async function presence(host: Host, path: string): Promise<'present' | 'gone' | 'unknown'> {
  if (await host.stat(path)) return 'present'
  const parts = path.split('/').filter(Boolean)
  for (let up = 1; up <= 2 && parts.length - up > 1; up++) {
    if ((await host.stat('/' + parts.slice(0, -up).join('/')))?.kind === 'dir') return 'gone'
  }
  return 'unknown'
}
