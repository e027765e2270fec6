// CNI network configs in /etc/cni/net.d. libcni (and so containerd and CRI-O) loads the files
// ending .conf, .conflist or .json, sorted by name, and uses the first one that parses.

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

interface PluginJson {
  type?: string
  bridge?: string
  ipam?: {type?: string; subnet?: string; dataDir?: string; ranges?: Array<Array<{subnet?: string}>>}
}

/** One config file's text. Broken JSON is reported in `error`, not thrown: a node can hold junk here. */
export function parseCniConfig(file: string, text: string): CniConfig {
  let raw: PluginJson & {name?: string; cniVersion?: string; plugins?: PluginJson[]}
  try {
    raw = JSON.parse(text)
  } catch (error) {
    return {file, name: null, cniVersion: null, plugins: [], bridge: null, subnets: [], ipamDataDir: null, error: `not JSON (${(error as Error).message})`}
  }
  if (typeof raw !== 'object' || raw === null) return {file, name: null, cniVersion: null, plugins: [], bridge: null, subnets: [], ipamDataDir: null, error: 'not a JSON object'}
  const plugins: PluginJson[] = file.endsWith('.conflist') || Array.isArray(raw.plugins) ? (raw.plugins ?? []) : [raw]
  const subnets: string[] = []
  for (const p of plugins) {
    if (p.ipam?.subnet) subnets.push(p.ipam.subnet)
    for (const set of p.ipam?.ranges ?? []) for (const r of set) if (r.subnet) subnets.push(r.subnet)
  }
  const types = plugins.map((p) => p.type).filter((t): t is string => typeof t === 'string')
  return {
    file,
    name: typeof raw.name === 'string' ? raw.name : null,
    cniVersion: typeof raw.cniVersion === 'string' ? raw.cniVersion : null,
    plugins: types,
    bridge: plugins.find((p) => p.type === 'bridge')?.bridge ?? (types.includes('bridge') ? 'cni0' : null),
    subnets,
    ipamDataDir: plugins.find((p) => typeof p.ipam?.dataDir === 'string')?.ipam?.dataDir ?? null,
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
