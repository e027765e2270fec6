import {type Host, hostPath} from '../../host/host.js'
import {gatherPods} from '../../pods/pods.js'
import {findCniConfDir, gatherCniConfigs} from '../../net/gather.js'
import {type Check, listOf, pass, skip, warn} from '../check.js'
import {scanPodCgroups} from '../facts/pod-cgroups.js'

export const CNI_NETWORKS_DIR = '/var/lib/cni/networks'

export interface CniAllocation {
  /** the host-local data dir it was found in */
  dataDir: string
  network: string
  ip: string
  /** first line of the file: the sandbox (container) ID that holds the address */
  containerId: string
}

export interface CniIpLeaksFacts {
  allocations: CniAllocation[] | undefined
  /** container IDs (sandboxes included) of cgroups with processes */
  runningIds: string[]
  /** IPs of pods nodedoc found */
  podIps: string[]
}

const IP_FILE = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-f:]+:[0-9a-f:]*)$/i

export const cniIpLeaks: Check<CniIpLeaksFacts> = {
  id: 'cni-ip-leaks',
  area: 'pods',
  title: 'every host-local CNI IP is held by a pod',
  why: 'host-local IPAM keeps one file per address; files of sandboxes that are gone exhaust the range and new pods fail with "no IP addresses available in range set"',
  async gather(host: Host) {
    // the default folder, plus any `ipam.dataDir` the runtime's CNI configs name
    const confDir = await findCniConfDir(host)
    const dataDirs = [...new Set([CNI_NETWORKS_DIR, ...(await gatherCniConfigs(host, confDir.path)).map((c) => c.ipamDataDir).filter((d): d is string => d !== null)])]
    let found = false
    const allocations: CniAllocation[] = []
    for (const dataDir of dataDirs) {
      const networks = await host.readDir(dataDir)
      if (!networks) continue
      found = true
      for (const net of networks.filter((n) => n.kind === 'dir')) {
        for (const file of (await host.readDir(hostPath(dataDir, net.name))) ?? []) {
          if (!IP_FILE.test(file.name)) continue
          const text = await host.readFile(hostPath(dataDir, net.name, file.name))
          if (text !== undefined) allocations.push({dataDir, network: net.name, ip: file.name, containerId: text.split(/\r?\n/)[0].trim()})
        }
      }
    }
    if (!found) return {allocations: undefined, runningIds: [], podIps: []}
    const cgroups = await scanPodCgroups(host)
    const runningIds = cgroups.flatMap((p) => p.containers.filter((c) => c.id && c.pids.length > 0).map((c) => c.id!))
    const podIps = (await gatherPods(host)).flatMap((p) => p.ips)
    return {allocations, runningIds, podIps}
  },
  evaluate({allocations, runningIds, podIps}) {
    if (allocations === undefined) return skip(`no ${CNI_NETWORKS_DIR} nor an ipam dataDir in the CNI config (not host-local IPAM)`)
    if (allocations.length === 0) return pass('no host-local allocations')
    const ids = new Set(runningIds)
    const ips = new Set(podIps)
    const leaked = allocations.filter((a) => !ids.has(a.containerId) && !ips.has(a.ip))
    if (leaked.length === 0) return pass(`${allocations.length} allocations, all held by running sandboxes`)
    return warn(`${leaked.length} of ${allocations.length} allocations held by no running sandbox: ${listOf(leaked.map((a) => `${a.network}/${a.ip} (${a.containerId.slice(0, 12) || 'no id'})`))}`,
      `make sure no sandbox with that ID exists (crictl pods), then delete those files under ${listOf([...new Set(leaked.map((a) => a.dataDir))])}/<network>/`, leaked)
  },
}
