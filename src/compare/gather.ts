// The runtime and kernel layers of one pod, read through the Host seam (live or snapshot).

import type {Host} from '../host/host.js'
import {gatherPods} from '../pods/pods.js'
import {readRuntimeConfig} from '../pods/runtime-files.js'
import type {ContainerReport, PodReport} from '../pods/types.js'
import {capabilityMask} from './capabilities.js'
import {type LayerContainer, type LayerPod, POD_NETWORK, unlimited} from './model.js'

/** Fields of /proc/<pid>/status that say what a process may do. */
export function parseProcStatus(text: string): {capEff: string | null; noNewPrivs: string | null; seccomp: string | null; uid: string | null} {
  const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(text)?.[1].trim() ?? null
  return {capEff: field('CapEff'), noNewPrivs: field('NoNewPrivs'), seccomp: field('Seccomp'), uid: field('Uid')?.split(/\s+/)[1] ?? null}
}

export function networkShape(report: PodReport): string {
  if (report.hostNetwork) return 'host'
  if (report.hostVeth && report.hostRoute?.destination.endsWith('/32') && report.hostRoute.dev === report.hostVeth.name) return POD_NETWORK
  if (report.hostVeth) return 'own netns, veth without a /32 host route'
  return report.ips.length ? 'own netns, no host veth' : 'own netns, no IP'
}

const named = (report: PodReport) => report.containers.filter((c): c is ContainerReport & {name: string} => c.name !== null)

export async function kernelLayer(host: Host, report: PodReport): Promise<LayerPod> {
  const cg = report.cgroup
  const containers: LayerContainer[] = []
  for (const c of named(report)) {
    const status = c.pid !== null ? await host.readFile(`/proc/${c.pid}/status`) : undefined
    const s = status ? parseProcStatus(status) : {capEff: null, noNewPrivs: null, seccomp: null, uid: null}
    const oom = c.pid !== null ? await host.readFile(`/proc/${c.pid}/oom_score_adj`) : undefined
    const ns = c.namespaceSharing
    containers.push({
      name: c.name,
      pid1: c.command,
      namespaces: {net: ns.net ?? null, ipc: ns.ipc ?? null, uts: ns.uts ?? null, pid: ns.pid ?? null, mnt: ns.mnt ?? null},
      mounts: c.pid === null ? null : Object.fromEntries(c.mounts.map((m) => [m.destination, m.readOnly ? 'ro' : 'rw'])),
      memoryLimit: c.cgroup ? unlimited(c.cgroup.memoryLimitBytes) : null,
      cpuShares: c.cgroup?.cpuShares != null ? String(c.cgroup.cpuShares) : null,
      cpuQuota: c.cgroup ? unlimited(c.cgroup.cpuQuotaUs) : null,
      oomScoreAdj: oom?.trim() ?? null,
      capEff: s.capEff,
      noNewPrivs: s.noNewPrivs,
      seccomp: s.seccomp,
      user: s.uid,
    })
  }
  return {
    qos: report.qosClass,
    network: networkShape(report),
    memoryLimit: cg ? unlimited(cg.memoryLimitBytes) : null,
    cpuShares: cg?.cpuShares != null ? String(cg.cpuShares) : null,
    cpuQuota: cg ? unlimited(cg.cpuQuotaUs) : null,
    containers,
  }
}

const OCI_NS: Record<string, keyof LayerContainer['namespaces']> = {network: 'net', ipc: 'ipc', uts: 'uts', pid: 'pid', mount: 'mnt'}

/** What the runtime was told: the OCI config.json of each container, when the runtime keeps one. */
export async function runtimeLayer(host: Host, report: PodReport): Promise<LayerPod | null> {
  const containers: LayerContainer[] = []
  for (const c of named(report)) {
    const config = await readRuntimeConfig(host, c.id, report.runtime === 'unknown' ? null : report.runtime)
    if (!config) continue
    const spec = config.spec
    const namespaces = {net: 'host', ipc: 'host', uts: 'host', pid: 'host', mnt: 'host'} as LayerContainer['namespaces']
    for (const [type, path] of Object.entries(spec.namespaces)) if (OCI_NS[type]) namespaces[OCI_NS[type]] = path ? 'sandbox' : 'own'
    containers.push({
      name: c.name,
      pid1: spec.args.join(' '),
      namespaces,
      mounts: {'/': 'rw', ...Object.fromEntries(spec.mounts.map((m) => [m.destination, m.options.includes('ro') ? 'ro' : 'rw']))},
      memoryLimit: unlimited(spec.resources.memoryLimit),
      cpuShares: spec.resources.cpuShares === null ? null : String(spec.resources.cpuShares),
      cpuQuota: spec.resources.cpuQuota === null || spec.resources.cpuQuota < 0 ? 'unlimited' : String(spec.resources.cpuQuota),
      oomScoreAdj: spec.oomScoreAdj === null ? null : String(spec.oomScoreAdj),
      capEff: capabilityMask(spec.capabilities),
      noNewPrivs: spec.noNewPrivileges ? '1' : '0',
      seccomp: spec.seccomp ? '2' : '0',
      user: spec.user ? String(spec.user.uid) : '0',
    })
  }
  if (containers.length === 0) return null
  return {qos: null, network: null, memoryLimit: null, cpuShares: null, cpuQuota: null, containers}
}

/** For `nodedoc snapshot`: what compare reads of every pod (status, oom_score_adj, runtime configs). */
export async function gatherCompareFacts(host: Host): Promise<unknown> {
  const pods = await gatherPods(host)
  await host.readFile('/proc/meminfo')
  return Promise.all(pods.map(async (p) => ({uid: p.uid, kernel: await kernelLayer(host, p), runtime: await runtimeLayer(host, p)})))
}
