// Reads, through the Host seam (live or snapshot), what compare needs: per pod the runtime's
// config.json and /proc/<pid>/{status,oom_score_adj} of each container; per node the facts that
// change what a spec implies (the runtime's and kubelet's config, the CNI config, which masked
// paths exist). kernelLayer and runtimeLayer then turn those readings into layers, purely.

import {type Host, hostPath} from '../host/host.js'
import {gatherHostLinks} from '../pods/links.js'
import {gatherPods} from '../pods/pods.js'
import {readRuntimeConfig} from '../pods/runtime-files.js'
import type {ContainerReport, MountRecord, PodReport} from '../pods/types.js'
import {type CniConfig, DEFAULT_CNI_CONF_DIR, cniConfigInUse, containerdCniConfDir, crioCniConfDir} from '../net/cni-config.js'
import {gatherCniConfigs} from '../net/gather.js'
import type {LinkRecord} from '../parse/net.js'
import type {OciSpecSummary} from '../parse/oci-config.js'
import {byteOrder} from '../parse/order.js'
import {parseCmdline} from '../parse/proc.js'
import {type SandboxState, STATE_ROOT, parseState} from '../sandbox/state.js'
import {CAPABILITY_NUMBERS, capabilityNames} from './capabilities.js'
import {KUBELET_MASKED_PATHS, KUBELET_MASKED_PATHS_LATER, KUBELET_READONLY_PATHS} from './kubelet-rules.js'
import {CONTAINER_ROWS, type ContainerRow, type LayerContainer, type LayerPod, type Value, describeCapabilities, describePaths, unlimited} from './layers.js'
import {type SandboxProfile, containerdRestrictsOomScoreAdj, defaultCapabilities, kubeletSeccompDefault} from './runtime-defaults.js'
import type {NodeFacts} from './spec.js'
import {NodedocError} from '../errors.js'

export class CompareError extends NodedocError {}

/** Fields of /proc/<pid>/status that say what a process may do. */
export function parseProcStatus(text: string): {capEff: string | null; capBnd: string | null; noNewPrivs: string | null; seccomp: string | null; uid: string | null} {
  const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(text)?.[1].trim() ?? null
  return {capEff: field('CapEff'), capBnd: field('CapBnd'), noNewPrivs: field('NoNewPrivs'), seccomp: field('Seccomp'), uid: field('Uid')?.split(/\s+/)[1] ?? null}
}

/** One pod's readings. */
export interface PodFacts {
  report: PodReport
  containers: Array<{name: string; report: ContainerReport; status: string | null; oomScoreAdj: string | null; config: OciSpecSummary | null}>
  hostLinks: LinkRecord[]
  /** the kubelet's masked and read-only paths that exist on this node's kernel (runc masks only those) */
  existingPaths: string[]
}

const named = (report: PodReport) => report.containers.filter((c): c is ContainerReport & {name: string} => c.name !== null)
const PROC_PATHS = [...KUBELET_MASKED_PATHS, ...KUBELET_READONLY_PATHS]

export async function gatherPodFacts(host: Host, report: PodReport): Promise<PodFacts> {
  const containers: PodFacts['containers'] = []
  for (const c of named(report)) {
    const [status, oom, config] = await Promise.all([
      c.pid !== null ? host.readFile(`/proc/${c.pid}/status`) : undefined,
      c.pid !== null ? host.readFile(`/proc/${c.pid}/oom_score_adj`) : undefined,
      readRuntimeConfig(host, c.id, report.runtime === 'unknown' ? null : report.runtime),
    ])
    containers.push({name: c.name, report: c, status: status ?? null, oomScoreAdj: oom?.trim() ?? null, config: config?.spec ?? null})
  }
  const existing = await Promise.all(PROC_PATHS.map(async (p) => ((await host.stat(p)) ? p : null)))
  return {report, containers, hostLinks: await gatherHostLinks(host), existingPaths: existing.filter((p): p is string => p !== null)}
}

/**
 * The pod's network as the node shows it: "host", "bridge <name>" (its veth is a bridge port and
 * the pod's IP is routed to that bridge), "veth /32 route" (a route to the pod's IP alone, on
 * its veth), else what is missing.
 */
export function networkShape(report: PodReport, links: LinkRecord[]): string {
  if (report.hostNetwork) return 'host'
  if (!report.hostVeth) return report.ips.length ? 'no host veth' : 'no IP'
  const master = links.find((l) => l.name === report.hostVeth!.name)?.master ?? null
  const route = report.hostRoute
  if (master) return route?.dev === master ? `bridge ${master}` : `bridge ${master}, routed ${route ? `via ${route.dev}` : 'nowhere'}`
  if (route?.dev === report.hostVeth.name && (route.destination.endsWith('/32') || route.destination.endsWith('/128') || !route.destination.includes('/'))) return 'veth /32 route'
  return route ? `veth, routed via ${route.dev}` : 'veth, no route'
}

const capNorm = (n: string) => n.toLowerCase().replace(/^cap_/, '')

/**
 * A container's mounts by destination ("ro" | "rw"), with the kubelet's masked and read-only
 * paths (and any the runtime's config names) taken out into their own sets, and cgroup v1's
 * per-hierarchy mounts folded into /sys/fs/cgroup.
 */
export function kernelMounts(mounts: Array<Pick<MountRecord, 'destination' | 'fsType' | 'readOnly'>>, config: Pick<OciSpecSummary, 'maskedPaths' | 'readonlyPaths'> | null): {mounts: Record<string, string>; masked: Set<string>; readonly: Set<string>} {
  const known = knownPaths(config)
  const out: Record<string, string> = {}
  const masked = new Set<string>()
  const readonly = new Set<string>()
  const cgroupSubs: typeof mounts = []
  for (const m of mounts) {
    // runc realises the kubelet's masked paths as mounts over them, and read-only paths as ro binds
    if (known.masked.has(m.destination)) masked.add(m.destination)
    else if (known.readonly.has(m.destination)) {
      if (m.readOnly) readonly.add(m.destination)
    } else if (m.destination.startsWith('/sys/fs/cgroup/')) cgroupSubs.push(m)
    else out[m.destination] = m.readOnly ? 'ro' : 'rw'
  }
  // cgroup v1: runc mounts a tmpfs at /sys/fs/cgroup and each hierarchy under it; what the
  // runtime's ro means there is that every hierarchy is read-only
  const root = mounts.find((m) => m.destination === '/sys/fs/cgroup')
  if (root && root.fsType === 'tmpfs' && cgroupSubs.some((m) => m.fsType === 'cgroup')) {
    out['/sys/fs/cgroup'] = cgroupSubs.every((m) => m.readOnly) ? 'ro' : 'rw'
  } else for (const m of cgroupSubs) out[m.destination] = m.readOnly ? 'ro' : 'rw'
  return {mounts: out, masked, readonly}
}

function knownPaths(config: Pick<OciSpecSummary, 'maskedPaths' | 'readonlyPaths'> | null) {
  return {
    masked: new Set([...KUBELET_MASKED_PATHS, ...KUBELET_MASKED_PATHS_LATER, ...(config?.maskedPaths ?? [])]),
    readonly: new Set([...KUBELET_READONLY_PATHS, ...(config?.readonlyPaths ?? [])]),
  }
}

function capabilitiesOf(mask: string | null, node: NodeFacts): Value {
  if (mask === null) return null
  return describeCapabilities(new Set(capabilityNames(mask)), defaultCapabilities(node.runtime), node.allCapabilities)
}

export function kernelLayer(facts: PodFacts, node: NodeFacts): LayerPod {
  const {report} = facts
  const cg = report.cgroup
  const existing = new Set(facts.existingPaths)
  const containers = facts.containers.map(({name, report: c, status, oomScoreAdj, config}): LayerContainer => {
    const s = status ? parseProcStatus(status) : null
    const ns = c.namespaceSharing
    const running = c.pid !== null
    const m = running ? kernelMounts(c.mounts, config) : null
    const rows: Record<ContainerRow, Value> = {
      'net ns': ns.net ?? null, 'ipc ns': ns.ipc ?? null, 'uts ns': ns.uts ?? null, 'pid ns': ns.pid ?? null, 'mnt ns': ns.mnt ?? null,
      command: c.command,
      'memory limit': c.cgroup ? unlimited(c.cgroup.memoryLimitBytes) : null,
      'cpu.shares': c.cgroup?.cpuShares != null ? String(c.cgroup.cpuShares) : null,
      'cpu quota': c.cgroup ? unlimited(c.cgroup.cpuQuotaUs) : null,
      oom_score_adj: oomScoreAdj,
      capabilities: capabilitiesOf(s?.capEff ?? null, node),
      no_new_privs: s?.noNewPrivs ?? null,
      seccomp: s?.seccomp ?? null,
      user: s?.uid ?? null,
      'masked paths': m ? describePaths(m.masked, KUBELET_MASKED_PATHS.filter((p) => existing.has(p))) : null,
      'read-only paths': m ? describePaths(m.readonly, KUBELET_READONLY_PATHS.filter((p) => existing.has(p))) : null,
    }
    return {name, rows, mounts: m?.mounts ?? null}
  })
  return {
    rows: {
      qos: report.qosClass,
      network: networkShape(report, facts.hostLinks),
      'memory limit': cg ? unlimited(cg.memoryLimitBytes) : null,
      'cpu.shares': cg?.cpuShares != null ? String(cg.cpuShares) : null,
      'cpu quota': cg ? unlimited(cg.cpuQuotaUs) : null,
    },
    containers,
  }
}

const OCI_NS: Record<string, string> = {network: 'net ns', ipc: 'ipc ns', uts: 'uts ns', pid: 'pid ns', mount: 'mnt ns'}
const positive = (v: number | null): string => (v === null || v <= 0 ? 'unlimited' : String(v))

/** What the runtime was told: the OCI config.json of each container, when the runtime keeps one. */
export function runtimeLayer(facts: PodFacts, node: NodeFacts): LayerPod | null {
  const containers: LayerContainer[] = []
  for (const {name, config: spec} of facts.containers) {
    if (!spec) continue
    const rows = Object.fromEntries(CONTAINER_ROWS.map((r) => [r, null])) as Record<ContainerRow, Value>
    for (const row of Object.values(OCI_NS)) rows[row as ContainerRow] = 'host'
    // "join the sandbox's namespace": for a hostNetwork (hostIPC, hostPID) pod that one is the node's
    const nodeNs: Record<string, boolean> = {network: facts.report.hostNetwork, uts: facts.report.hostNetwork, ipc: facts.report.hostIPC, pid: facts.report.hostPID}
    for (const [type, path] of Object.entries(spec.namespaces)) if (OCI_NS[type]) rows[OCI_NS[type] as ContainerRow] = path ? (nodeNs[type] ? 'host' : 'sandbox') : 'own'
    const uid = spec.user?.uid ?? 0
    const caps = new Set(spec.capabilities.map(capNorm))
    Object.assign(rows, {
      command: spec.args.join(' '),
      'memory limit': positive(spec.resources.memoryLimit),
      'cpu.shares': spec.resources.cpuShares === null ? null : String(spec.resources.cpuShares),
      'cpu quota': positive(spec.resources.cpuQuota),
      oom_score_adj: spec.oomScoreAdj === null ? null : String(spec.oomScoreAdj),
      // the kernel clears the effective set when a non-root user execs (the runtime gives no ambient set)
      capabilities: uid !== 0 ? 'none' : describeCapabilities(caps, defaultCapabilities(node.runtime), node.allCapabilities),
      no_new_privs: spec.noNewPrivileges ? '1' : '0',
      seccomp: spec.seccomp ? '2' : '0',
      user: String(uid),
      'masked paths': describePaths(new Set(spec.maskedPaths), KUBELET_MASKED_PATHS),
      'read-only paths': describePaths(new Set(spec.readonlyPaths), KUBELET_READONLY_PATHS),
    })
    const mounts: Record<string, string> = {'/': spec.rootReadonly ? 'ro' : 'rw'}
    for (const m of spec.mounts) mounts[m.destination] = m.options.includes('ro') ? 'ro' : 'rw'
    containers.push({name, rows, mounts})
  }
  if (containers.length === 0) return null
  return {rows: {qos: null, network: null, 'memory limit': null, 'cpu.shares': null, 'cpu quota': null}, containers}
}

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
  const kb = meminfo && /^MemTotal:\s+(\d+)\s+kB/m.exec(meminfo)
  const last = (await host.readFile('/proc/sys/kernel/cap_last_cap'))?.trim()
  return {
    nodeMemoryBytes: kb ? Number(kb[1]) * 1024 : null,
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

/** A `nodedoc sandbox`'s state, read through the Host: a snapshot holds it as the live node does. */
export async function readSandboxState(host: Host, name: string): Promise<SandboxState> {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.length > 63) throw new CompareError(`--with ${name}: not a sandbox name (lower-case letters, digits and '-')`)
  const path = `${STATE_ROOT}/${name}/state.json`
  const text = await host.readFile(path)
  if (text === undefined) throw new CompareError(`no sandbox named ${name} on ${host.description} (${path} is absent; nodedoc sandbox ls)`)
  try {
    return parseState(text, path)
  } catch (error) {
    throw new CompareError((error as Error).message)
  }
}

/** The sandbox that made a pod, when `nodedoc sandbox` did (its state names the pod's UID). */
export async function sandboxOfPod(host: Host, podUid: string): Promise<SandboxProfile | null> {
  for (const entry of (await host.readDir(STATE_ROOT)) ?? []) {
    if (entry.kind !== 'dir') continue
    const text = await host.readFile(`${STATE_ROOT}/${entry.name}/state.json`)
    if (text === undefined) continue
    try {
      const state = parseState(text, entry.name)
      if (state.podUid === podUid) return {name: state.name, isolation: state.isolation}
    } catch {
      // not a sandbox state: `sandbox ls` says so; here it is just not this pod's
    }
  }
  return null
}

/** For `nodedoc snapshot`: everything compare reads, for every pod and every sandbox. */
export async function gatherCompareFacts(host: Host): Promise<unknown> {
  const readings = await gatherNodeReadings(host)
  const pods = await gatherPods(host)
  const states = []
  for (const entry of (await host.readDir(STATE_ROOT)) ?? []) {
    if (entry.kind === 'dir') states.push(await host.readFile(`${STATE_ROOT}/${entry.name}/state.json`) !== undefined ? entry.name : null)
  }
  const facts = await Promise.all(pods.map((p) => gatherPodFacts(host, p)))
  return {readings, sandboxes: states.filter(Boolean), pods: facts.map((f) => ({uid: f.report.uid, containers: f.containers.map((c) => c.name)}))}
}
