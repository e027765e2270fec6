// The node facts that change what a spec implies, read through the Host: the runtime's process
// and config (containerd's restrict_oom_score_adj and conf_dir, CRI-O's network_dir), the
// kubelet's --seccomp-default, the CNI config in use, MemTotal and the kernel's last capability.

import {type Host, hostPath} from '../host/host.js'
import type {PodReport} from '../pods/types.js'
import {type CniConfig, DEFAULT_CNI_CONF_DIR, cniConfigInUse, containerdCniConfDir, crioCniConfDir} from '../net/cni-config.js'
import {gatherCniConfigs} from '../net/gather.js'
import {parseMemTotal} from '../parse/meminfo.js'
import {byteOrder} from '../parse/order.js'
import {parseCmdline} from '../parse/proc.js'
import {CAPABILITY_NUMBERS, capabilityNames} from './capabilities.js'
import {CompareError, parseProcStatus} from './gather.js'
import type {Value} from './layers.js'
import {containerdRestrictsOomScoreAdj, kubeletSeccompDefault} from './runtime-defaults.js'
import type {NodeFacts} from './spec.js'

/** Node-wide readings: runtime and kubelet processes and configs, the CNI config in use. */
export interface NodeReadings {
  nodeMemoryBytes: number | null
  runtime: {name: 'containerd' | 'cri-o'; pid: number; configPath: string; config: string | null; oomScoreAdj: number | null; capBnd: string | null} | null
  kubelet: {argv: string[]; configPath: string | null; config: string | null} | null
  cni: {dir: string; inUse: CniConfig | null}
  capLastCap: number | null
}

function flagValue(argv: string[], names: string[]): string | undefined {
  for (const [i, arg] of argv.entries()) {
    for (const name of names) {
      if (arg === name) return argv[i + 1]
      if (arg.startsWith(`${name}=`)) return arg.slice(name.length + 1)
    }
  }
  return undefined
}

async function readCrioConfig(host: Host): Promise<string> {
  const texts = [await host.readFile('/etc/crio/crio.conf')]
  for (const e of ((await host.readDir('/etc/crio/crio.conf.d')) ?? []).sort((a, b) => byteOrder(a.name, b.name))) texts.push(await host.readFile(hostPath('/etc/crio/crio.conf.d', e.name)))
  return texts.filter((t): t is string => t !== undefined).join('\n')
}

export async function gatherNodeReadings(host: Host): Promise<NodeReadings> {
  let runtime: NodeReadings['runtime'] = null
  let kubelet: NodeReadings['kubelet'] = null
  for (const entry of (await host.readDir('/proc')) ?? []) {
    if (runtime && kubelet) break
    if (!/^\d+$/.test(entry.name)) continue
    const comm = (await host.readFile(`/proc/${entry.name}/comm`))?.trim()
    if (comm !== 'containerd' && comm !== 'crio' && comm !== 'kubelet') continue
    const argv = parseCmdline((await host.readFile(`/proc/${entry.name}/cmdline`)) ?? '')
    if (comm === 'kubelet' && !kubelet) {
      const configPath = flagValue(argv, ['--config']) ?? null
      kubelet = {argv, configPath, config: configPath ? ((await host.readFile(configPath)) ?? null) : null}
    } else if (comm !== 'kubelet' && !runtime) {
      const pid = Number(entry.name)
      const configPath = comm === 'containerd' ? (flagValue(argv, ['--config', '-c']) ?? '/etc/containerd/config.toml') : '/etc/crio/crio.conf'
      const config = comm === 'containerd' ? ((await host.readFile(configPath)) ?? null) : await readCrioConfig(host)
      const oom = (await host.readFile(`/proc/${pid}/oom_score_adj`))?.trim()
      const status = await host.readFile(`/proc/${pid}/status`)
      runtime = {name: comm === 'containerd' ? 'containerd' : 'cri-o', pid, configPath, config, oomScoreAdj: oom === undefined ? null : Number(oom), capBnd: status ? parseProcStatus(status).capBnd : null}
    }
  }
  const dir = (runtime?.name === 'containerd' ? containerdCniConfDir(runtime.config ?? '') : runtime ? crioCniConfDir([runtime.config ?? '']) : undefined) ?? DEFAULT_CNI_CONF_DIR
  const meminfo = await host.readFile('/proc/meminfo')
  const last = (await host.readFile('/proc/sys/kernel/cap_last_cap'))?.trim()
  return {
    nodeMemoryBytes: meminfo === undefined ? null : (parseMemTotal(meminfo) ?? null),
    runtime,
    kubelet,
    cni: {dir, inUse: cniConfigInUse(await gatherCniConfigs(host, dir))},
    capLastCap: last && /^\d+$/.test(last) ? Number(last) : null,
  }
}

/** The host-side shape a CNI config gives a pod (see networkShape), or null when nodedoc does not know the plugin. */
export function cniNetworkShape(cni: NodeReadings['cni']): {value: Value; why: string} {
  const config = cni.inUse
  if (!config) return {value: null, why: `no CNI config in ${cni.dir}`}
  const main = config.plugins[0]
  const where = `CNI config ${config.file} (${config.plugins.join(', ')})`
  if (main === 'bridge') return {value: `bridge ${config.bridge ?? 'cni0'}`, why: `${where}: pod veths join the bridge, which holds the route to the pod range`}
  // flannel delegates to the bridge plugin with its default bridge, cni0
  if (main === 'flannel') return {value: 'bridge cni0', why: `${where}: flannel delegates to the bridge plugin (cni0)`}
  if (main === 'ptp' || main === 'calico') return {value: 'veth /32 route', why: `${where}: a host route to each pod's IP on its veth`}
  return {value: null, why: `${where}: nodedoc does not know the host side ${main} sets up`}
}

export function nodeFacts(readings: NodeReadings, podRuntime: PodReport['runtime']): NodeFacts {
  if (readings.nodeMemoryBytes === null) throw new CompareError('cannot read MemTotal from /proc/meminfo (needed for oom_score_adj)')
  const runtime = podRuntime !== 'unknown' ? podRuntime : (readings.runtime?.name ?? 'unknown')
  const r = readings.runtime
  const restricts = r?.name === 'containerd' && r.name === runtime && r.config !== null && containerdRestrictsOomScoreAdj(r.config)
  const oomFloor = restricts && r.oomScoreAdj !== null
    ? {value: r.oomScoreAdj, why: `containerd raises it to its own ${r.oomScoreAdj} (restrict_oom_score_adj = true in ${r.configPath})`}
    : null
  const k = readings.kubelet
  const flag = k ? kubeletSeccompDefault(k.argv, k.config ?? undefined) : undefined
  const seccompDefault = !k
    ? {value: false, why: 'no kubelet process seen, so --seccomp-default is taken as off'}
    : {value: flag === true, why: flag === undefined ? 'the kubelet runs without --seccomp-default' : `the kubelet ${flag ? 'runs with' : 'turns off'} --seccomp-default`}
  const last = readings.capLastCap ?? Math.max(...Object.values(CAPABILITY_NUMBERS))
  const known = Object.entries(CAPABILITY_NUMBERS).filter(([, n]) => n <= last).map(([name]) => name)
  // a privileged container gets the runtime's own bounding set
  const allCapabilities = r?.capBnd ? capabilityNames(r.capBnd) : known
  return {nodeMemoryBytes: readings.nodeMemoryBytes, runtime, oomFloor, seccompDefault: {value: seccompDefault.value, why: seccompDefault.why}, network: cniNetworkShape(readings.cni), allCapabilities}
}
