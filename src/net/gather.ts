import {type Host, hostPath} from '../host/host.js'
import {gatherPods} from '../pods/pods.js'
import {gatherHostRoutes} from '../pods/routes.js'
import type {PodReport} from '../pods/types.js'
import {gatherHostLinks, gatherNetnsIds} from '../pods/links.js'
import type {LinkRecord} from '../parse/net.js'
import type {Route} from '../parse/route.js'
import {parseCmdline} from '../parse/proc.js'
import {CNI_EXTENSIONS, type CniConfig, DEFAULT_CNI_CONF_DIR, containerdCniConfDir, crioCniConfDir, parseCniConfig} from './cni-config.js'
import {byteOrder} from '../parse/order.js'

export const CNI_CONF_DIR = DEFAULT_CNI_CONF_DIR

/** Everything `nodedoc net` joins, as read from the node. */
export interface NetFacts {
  routes: Route[]
  links: LinkRecord[]
  /** the node's own addresses (so a route to one is not "a route to no pod") */
  nodeAddresses: string[]
  /** nsid as this namespace numbers a peer namespace -> its name under /run/netns */
  netnsNames: Array<[number, string]>
  /** the folder the runtime loads CNI configs from, and why nodedoc thinks so */
  cniConfDir: {path: string; source: string}
  cniConfigs: CniConfig[]
  pods: PodReport[]
}

export async function gatherNetFacts(host: Host): Promise<NetFacts> {
  const cniConfDir = await findCniConfDir(host)
  const [routes, links, nodeAddresses, netnsNames, cniConfigs, pods] = await Promise.all([
    gatherHostRoutes(host),
    gatherHostLinks(host),
    gatherNodeAddresses(host),
    gatherNetnsIds(host),
    gatherCniConfigs(host, cniConfDir.path),
    gatherPods(host),
  ])
  return {routes, links, nodeAddresses, netnsNames: [...netnsNames], cniConfDir, cniConfigs, pods}
}

async function gatherNodeAddresses(host: Host): Promise<string[]> {
  const result = await host.run(['ip', '-j', 'addr', 'show'])
  if (!result || result.exitCode !== 0) return []
  try {
    const raw = JSON.parse(result.stdout) as Array<{addr_info?: Array<{local?: string}>}>
    return raw.flatMap((l) => (l.addr_info ?? []).map((a) => a.local).filter((a): a is string => Boolean(a)))
  } catch {
    return []
  }
}

/**
 * Where the running runtime reads CNI configs: containerd's `conf_dir` (from the --config it was
 * started with, else /etc/containerd/config.toml), CRI-O's `network_dir`, else /etc/cni/net.d.
 */
export async function findCniConfDir(host: Host): Promise<{path: string; source: string}> {
  for (const entry of (await host.readDir('/proc')) ?? []) {
    if (!/^\d+$/.test(entry.name)) continue
    const comm = (await host.readFile(`/proc/${entry.name}/comm`))?.trim()
    if (comm === 'containerd') {
      const argv = parseCmdline((await host.readFile(`/proc/${entry.name}/cmdline`)) ?? '')
      const at = argv.findIndex((a) => a === '--config' || a === '-c' || a.startsWith('--config='))
      const configPath = at < 0 ? '/etc/containerd/config.toml' : argv[at].startsWith('--config=') ? argv[at].slice(9) : argv[at + 1]
      const dir = containerdCniConfDir((await host.readFile(configPath)) ?? '')
      return dir ? {path: dir, source: `containerd ${configPath}`} : {path: DEFAULT_CNI_CONF_DIR, source: 'containerd default'}
    }
    if (comm === 'crio') {
      const texts = [await host.readFile('/etc/crio/crio.conf')]
      for (const e of ((await host.readDir('/etc/crio/crio.conf.d')) ?? []).sort((a, b) => byteOrder(a.name, b.name))) texts.push(await host.readFile(hostPath('/etc/crio/crio.conf.d', e.name)))
      const dir = crioCniConfDir(texts.filter((t): t is string => t !== undefined))
      return dir ? {path: dir, source: 'cri-o network_dir'} : {path: DEFAULT_CNI_CONF_DIR, source: 'cri-o default'}
    }
  }
  return {path: DEFAULT_CNI_CONF_DIR, source: 'default (no runtime process found)'}
}

export async function gatherCniConfigs(host: Host, dir: string): Promise<CniConfig[]> {
  const configs: CniConfig[] = []
  for (const entry of (await host.readDir(dir)) ?? []) {
    if (entry.kind === 'dir' || !CNI_EXTENSIONS.some((ext) => entry.name.endsWith(ext))) continue
    const text = await host.readFile(hostPath(dir, entry.name))
    if (text !== undefined) configs.push(parseCniConfig(entry.name, text))
  }
  return configs
}
