// What a Pod manifest implies on this node: the kubelet's rules (resources in
// src/sandbox/kubelet.ts, the rest in kubelet-rules.ts) applied as the kubelet would, then what
// the runtime adds (runtime-defaults.ts) and the node facts that change an answer (the CNI
// config, --seccomp-default, a runtime that raises negative oom_score_adj). Each value carries
// the reason it is expected.

import type {Runtime} from '../pods/types.js'
import {containerLimits, oomScoreAdj, podLimits, qosClass} from '../sandbox/kubelet.js'
import type {ContainerSpec, PodManifest} from '../sandbox/manifest.js'
import {type KubeletMount, type SeccompDefault, effectiveSecurity, kubeletMounts, noNewPrivs, procPathsAsked, volumeMounts} from './kubelet-rules.js'
import {type ContainerRow, type SpecContainer, type SpecPod, type Value, describeCapabilities, unlimited} from './layers.js'
import {type SandboxProfile, defaultCapabilities, runtimeDefaultMounts, runtimeName, sandboxMounts} from './runtime-defaults.js'

/** Facts about the node that change what a spec implies. */
export interface NodeFacts {
  nodeMemoryBytes: number
  runtime: Runtime
  /** containerd's restrict_oom_score_adj: lower values are raised to the runtime's own score */
  oomFloor: {value: number; why: string} | null
  seccompDefault: SeccompDefault
  /** the network shape the CNI config implies (null: nodedoc does not know this plugin) */
  network: {value: Value; why: string}
  /** every capability a privileged container gets: the runtime's own bounding set */
  allCapabilities: string[]
  /** set when the pod is a `nodedoc sandbox`: it, not a kubelet and a runtime, made the pod */
  sandbox?: SandboxProfile | null
}

/** What the runtime resolved from the image, per container (its config.json's user). */
export type ImageUsers = Map<string, number | null>

function capabilitySet(c: ContainerSpec, runtime: Runtime, all: string[]): {set: Set<string> | 'all'; why: string} {
  const norm = (n: string) => n.toLowerCase().replace(/^cap_/, '')
  const add = (c.security?.capabilities?.add ?? []).map(norm)
  const drop = (c.security?.capabilities?.drop ?? []).map(norm)
  if (c.security?.privileged) return {set: 'all', why: 'privileged: every capability'}
  const base = drop.includes('all') ? [] : defaultCapabilities(runtime).filter((x) => !drop.includes(x))
  const set = new Set(add.includes('all') ? all : [...base, ...add])
  const changes = [...(add.length ? [`add ${add.join(',')}`] : []), ...(drop.length ? [`drop ${drop.join(',')}`] : [])]
  return {set, why: `${runtimeName(runtime)}'s default set${changes.length ? `, then capabilities ${changes.join(', ')}` : ''}`}
}

function containerLayer(pod: PodManifest, c: ContainerSpec, qos: ReturnType<typeof qosClass>, node: NodeFacts, imageUid: number | null | undefined): SpecContainer {
  const sec = effectiveSecurity(pod, c, node.seccompDefault)
  const limits = containerLimits(c)
  const rows = {} as Record<ContainerRow, Value>
  const why: SpecContainer['why'] = {}
  const set = (row: ContainerRow, value: Value, reason: string) => {
    rows[row] = value
    why[row] = reason
  }

  set('net ns', pod.hostNetwork ? 'host' : 'sandbox', pod.hostNetwork ? 'hostNetwork: true' : "shared with the pod's pause process")
  set('ipc ns', pod.hostIPC ? 'host' : 'sandbox', pod.hostIPC ? 'hostIPC: true' : "shared with the pod's pause process")
  set('uts ns', pod.hostNetwork ? 'host' : 'sandbox', pod.hostNetwork ? 'hostNetwork: true' : "shared with the pod's pause process")
  set('pid ns', pod.hostPID ? 'host' : pod.shareProcessNamespace ? 'sandbox' : 'own',
    pod.hostPID ? 'hostPID: true' : pod.shareProcessNamespace ? 'shareProcessNamespace: true' : 'a namespace per container unless shareProcessNamespace')
  set('mnt ns', 'own', 'every container has its own mount namespace')
  set('command', c.command ? [...c.command, ...(c.args ?? [])].join(' ') : null, c.command ? 'command and args' : "no command: the image's entrypoint")

  set('memory limit', unlimited(limits.memoryLimitBytes), limits.memoryLimitBytes === null ? 'no memory limit' : 'resources.limits.memory')
  set('cpu.shares', String(limits.cpuShares), 'max(2, cpu request in millicores * 1024 / 1000)')
  set('cpu quota', unlimited(limits.cpuQuotaUs), limits.cpuQuotaUs === null ? 'no cpu limit' : 'cpu limit in millicores * 100 per 100 ms period')

  const asked = oomScoreAdj(qos, c.resources.requests.memoryBytes, node.nodeMemoryBytes)
  const policy = qos === 'Burstable' ? 'Burstable: 1000 - 1000 * memory request / node memory' : `${qos} QoS`
  if (node.oomFloor && asked < node.oomFloor.value) set('oom_score_adj', String(node.oomFloor.value), `the kubelet asks ${asked} (${policy}); ${node.oomFloor.why}`)
  else set('oom_score_adj', String(asked), policy)

  const uid = sec.runAsUser ?? imageUid ?? null
  const caps = capabilitySet(c, node.runtime, node.allCapabilities)
  // a process that execs as a non-root user keeps no effective capability (no ambient set is given)
  if (uid !== null && uid !== 0 && caps.set !== 'all') set('capabilities', 'none', `uid ${uid} keeps no effective capability after exec`)
  else set('capabilities', describeCapabilities(caps.set, defaultCapabilities(node.runtime), node.allCapabilities), caps.why)

  const nnp = noNewPrivs(sec)
  const box = node.sandbox
  if (box) set('no_new_privs', box.isolation === 'full' ? '1' : '0', `nodedoc sandbox ${box.name} (isolation ${box.isolation}) ${box.isolation === 'full' ? 'sets it for every container' : 'does not set it'}`)
  else set('no_new_privs', nnp.value ? '1' : '0', nnp.why)
  if (box) set('seccomp', '0', `nodedoc sandbox ${box.name} applies no seccomp profile`)
  else if (sec.privileged) set('seccomp', '0', 'privileged: the runtime applies no seccomp profile')
  else set('seccomp', sec.seccomp.profile === 'Unconfined' ? '0' : '2', `${sec.seccomp.why} (${sec.seccomp.profile === 'Unconfined' ? 'no filter' : 'a filter: mode 2'})`)
  set('user', uid === null ? null : String(uid), sec.runAsUser !== null ? 'runAsUser' : uid !== null ? "the image's user, as the runtime resolved it" : "the image's user")

  const paths = box ? `nodedoc sandbox ${box.name} masks nothing` : sec.privileged ? 'privileged: the runtime masks nothing' : procPathsAsked(sec) ? "the kubelet's default list (procMount Default)" : 'procMount: Unmasked'
  const pathsValue = box || sec.privileged || !procPathsAsked(sec) ? 'none' : 'default'
  set('masked paths', pathsValue, paths)
  set('read-only paths', pathsValue, paths)

  const mounts: Record<string, string> = {'/': sec.readOnlyRootFilesystem ? 'ro' : 'rw'}
  const mountWhy: Record<string, string> = {'/': `the image's root filesystem${sec.readOnlyRootFilesystem ? ', readOnlyRootFilesystem: true' : ''}`}
  const optionalMounts: Record<string, string> = {}
  const fromKubelet: KubeletMount[] = box ? volumeMounts(pod, c) : kubeletMounts(pod, c)
  const defaults = box ? sandboxMounts(box, pod.hostNetwork) : runtimeDefaultMounts(node.runtime, {privileged: sec.privileged, readOnlyRootFilesystem: sec.readOnlyRootFilesystem})
  // a CRI mount replaces the runtime's default at that path; one at /dev replaces all of /dev
  const replaced = (dest: string) => fromKubelet.some((k) => k.destination === dest || (k.destination === '/dev' && dest.startsWith('/dev/')))
  for (const m of defaults) {
    if (replaced(m.destination)) continue
    mounts[m.destination] = m.mode
    mountWhy[m.destination] = m.why
  }
  for (const m of fromKubelet) {
    mounts[m.destination] = m.mode
    mountWhy[m.destination] = m.why
    if (m.optional) optionalMounts[m.destination] = m.optional
  }
  return {name: c.name, rows, why, mounts, mountWhy, optionalMounts}
}

export function specLayer(pod: PodManifest, node: NodeFacts, imageUsers: ImageUsers = new Map()): SpecPod {
  const qos = qosClass(pod)
  const limits = podLimits(pod)
  return {
    rows: {
      qos,
      network: pod.hostNetwork ? 'host' : node.sandbox ? 'veth /32 route' : node.network.value,
      'memory limit': unlimited(limits.memoryLimitBytes),
      'cpu.shares': String(limits.cpuShares),
      'cpu quota': unlimited(limits.cpuQuotaUs),
    },
    why: {
      qos: 'requests and limits: Guaranteed when every container has limits = requests for cpu and memory, BestEffort when none has any',
      network: pod.hostNetwork ? 'hostNetwork: true' : node.sandbox ? `nodedoc sandbox ${node.sandbox.name}: a route to the pod's IP on its veth` : node.network.why,
      'memory limit': limits.memoryLimitBytes === null ? 'not every container has a memory limit' : 'the sum of the containers\' memory limits',
      'cpu.shares': qos === 'BestEffort' ? 'BestEffort: the minimum, 2' : 'max(2, summed cpu requests in millicores * 1024 / 1000)',
      'cpu quota': limits.cpuQuotaUs === null ? 'not every container has a cpu limit' : 'summed cpu limits in millicores * 100 per 100 ms period',
    },
    containers: pod.containers.map((c) => containerLayer(pod, c, qos, node, imageUsers.get(c.name))),
  }
}
