// CNI network configs in /etc/cni/net.d. libcni (and so containerd and CRI-O) loads the files
// ending .conf, .conflist or .json, sorted by name, and uses the first one that parses.

import {record, str} from '../parse/json.js'

export interface CniConfig {
  file: string
  /** network name ("kindnet", "k8s-pod-network", "cbr0") */
  name: string | null
  cniVersion: string | null
  /** plugin types in chain order: ["ptp", "portmap"] */
  plugins: string[]
  /** bridge plugin's bridge device */
  bridge: string | null
  /** pod subnets from host-local ipam (subnet or ranges) */
  subnets: string[]
  /** host-local ipam's allocation folder when the config sets one (default /var/lib/cni/networks) */
  ipamDataDir: string | null
  error: string | null
}

export const CNI_EXTENSIONS = ['.conf', '.conflist', '.json']

/** A JSON array's elements; anything else has none. */
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : [])

const broken = (file: string, error: string): CniConfig => ({file, name: null, cniVersion: null, plugins: [], bridge: null, subnets: [], ipamDataDir: null, error})

/**
 * One config file's text. Broken JSON is reported in `error`, not thrown: a node can hold junk
 * here, and any field may have any JSON type (a field of the wrong type is read as absent).
 */
export function parseCniConfig(file: string, source: string): CniConfig {
  let parsed: unknown
  try {
    parsed = JSON.parse(source)
  } catch (error) {
    return broken(file, `not JSON (${(error as Error).message})`)
  }
  const raw = record(parsed)
  if (!raw) return broken(file, 'not a JSON object')
  const plugins = (file.endsWith('.conflist') || Array.isArray(raw.plugins) ? list(raw.plugins) : [raw]).map((p) => record(p) ?? {})
  const subnets: string[] = []
  for (const p of plugins) {
    const ipam = record(p.ipam)
    const subnet = str(ipam?.subnet)
    if (subnet) subnets.push(subnet)
    // host-local's ranges: a list of range sets, each a list of ranges
    for (const set of list(ipam?.ranges)) for (const range of list(set)) {
      const rangeSubnet = str(record(range)?.subnet)
      if (rangeSubnet) subnets.push(rangeSubnet)
    }
  }
  const types = plugins.map((p) => str(p.type)).filter((t): t is string => t !== undefined)
  const bridgePlugin = plugins.find((p) => p.type === 'bridge')
  return {
    file,
    name: str(raw.name) ?? null,
    cniVersion: str(raw.cniVersion) ?? null,
    plugins: types,
    bridge: str(bridgePlugin?.bridge) ?? (bridgePlugin ? 'cni0' : null),
    subnets,
    ipamDataDir: plugins.map((p) => str(record(p.ipam)?.dataDir)).find((dir) => dir !== undefined) ?? null,
    error: types.length === 0 ? 'no plugin "type"' : null,
  }
}

/** The config libcni would use: first by file name among valid ones. */
export function cniConfigInUse(configs: CniConfig[]): CniConfig | null {
  return [...configs].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0)).find((c) => c.error === null) ?? null
}

export const DEFAULT_CNI_CONF_DIR = '/etc/cni/net.d'

/** containerd's CRI plugin `conf_dir` in config.toml; undefined when not set (its default is /etc/cni/net.d). */
export function containerdCniConfDir(configToml: string): string | undefined {
  return /^\s*conf_dir\s*=\s*"([^"]+)"/m.exec(configToml)?.[1]
}

/** CRI-O's `network_dir` in crio.conf or crio.conf.d; the last file read wins. */
export function crioCniConfDir(configs: string[]): string | undefined {
  let dir: string | undefined
  for (const text of configs) dir = /^\s*network_dir\s*=\s*"([^"]+)"/m.exec(text)?.[1] ?? dir
  return dir
}
