// Reads, through the Host seam (live or snapshot), what compare needs of a pod: the runtime's
// config.json and /proc/<pid>/{status,oom_score_adj} of each container, which masked paths exist,
// the node's links; and a sandbox's state. kernelLayer and runtimeLayer then turn those readings
// into layers, purely. The node's own facts are read in node-facts.ts.

import {NodedocError} from '../errors.js'
import type {Host} from '../host/host.js'
import {gatherHostLinks} from '../pods/links.js'
import {readRuntimeConfig} from '../pods/runtime-files.js'
import type {ContainerReport, MountRecord, PodReport} from '../pods/types.js'
import type {LinkRecord} from '../parse/net.js'
import type {OciSpecSummary} from '../parse/oci-config.js'
import {type SandboxState, STATE_ROOT, parseState} from '../sandbox/state.js'
import {capabilityNames} from './capabilities.js'
import {KUBELET_MASKED_PATHS, KUBELET_MASKED_PATHS_LATER, KUBELET_READONLY_PATHS} from './kubelet-rules.js'
import {CONTAINER_ROWS, type ContainerRow, type LayerContainer, type LayerPod, type Value, describeCapabilities, describePaths, unlimited} from './layers.js'
import {type SandboxProfile, defaultCapabilities} from './runtime-defaults.js'
import type {NodeFacts} from './spec.js'

/** compare's answers that are not a comparison: one line, exit 1 (2 for a usage error) */
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
