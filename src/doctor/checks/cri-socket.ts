import {DEFAULT_RUNTIME_ENDPOINTS, socketPathOf} from '../../host/cri-endpoint.js'
import {connectCri} from '../../host/cri-transport.js'
import type {Host} from '../../host/host.js'
import {LiveHost} from '../../host/live.js'
import {type Check, fail, pass, skip} from '../check.js'

export interface CriSocketFacts {
  /** default socket paths and whether each exists (as a socket or anything else) */
  sockets: Array<{path: string; kind: string | null}>
  /** the runtime that answered Version; null when none did; undefined when nobody could ask (snapshot) */
  answered: {runtimeName: string; runtimeVersion: string} | null | undefined
  problems: string[]
}

export const criSocket: Check<CriSocketFacts> = {
  id: 'cri-socket',
  area: 'runtime',
  title: 'CRI socket present and answering',
  why: 'the kubelet starts, stops and inspects every container through the CRI socket; no answer means no pod changes on this node',
  async gather(host: Host) {
    const sockets = []
    for (const endpoint of DEFAULT_RUNTIME_ENDPOINTS) {
      const path = socketPathOf(endpoint)
      sockets.push({path, kind: (await host.stat(path))?.kind ?? null})
    }
    if (!(host instanceof LiveHost)) return {sockets, answered: undefined, problems: []}
    if (!sockets.some((s) => s.kind)) return {sockets, answered: null, problems: []}
    const {client, problems} = await connectCri({hostRoot: host.root})
    if (!client) {
      // a file that is not a socket, or a socket nobody serves
      return {sockets, answered: null, problems: problems.length ? problems.map((p) => p.split('. ')[0]) : sockets.filter((s) => s.kind).map((s) => `${s.path}: not a socket that answers CRI`)}
    }
    try {
      const v = await client.version()
      return {sockets, answered: {runtimeName: v.runtimeName, runtimeVersion: v.runtimeVersion}, problems}
    } finally {
      client.close()
    }
  },
  evaluate({sockets, answered, problems}) {
    const present = sockets.filter((s) => s.kind !== null)
    if (present.length === 0) return fail(`no CRI socket at ${sockets.map((s) => s.path).join(', ')}`, 'start the container runtime (containerd or cri-o) and check its config for the socket path')
    if (answered === undefined) return skip(`socket ${present.map((s) => s.path).join(', ')} present; a snapshot cannot be asked`)
    if (answered === null) return fail(`${present.map((s) => s.path).join(', ')} present but no CRI answer: ${problems.join('; ') || 'no reply'}`, 'restart the runtime (systemctl restart containerd) and read its log; a stale socket file from a dead runtime also looks like this')
    return pass(`${answered.runtimeName} ${answered.runtimeVersion} answers on ${present.map((s) => s.path).join(', ')}`)
  },
}
