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
  error: string | null
}

export const CNI_EXTENSIONS = ['.conf', '.conflist', '.json']

interface PluginJson {
  type?: string
  bridge?: string
  ipam?: {type?: string; subnet?: string; ranges?: Array<Array<{subnet?: string}>>}
}

/** One config file's text. Broken JSON is reported in `error`, not thrown: a node can hold junk here. */
export function parseCniConfig(file: string, text: string): CniConfig {
  let raw: PluginJson & {name?: string; cniVersion?: string; plugins?: PluginJson[]}
  try {
    raw = JSON.parse(text)
  } catch (error) {
    return {file, name: null, cniVersion: null, plugins: [], bridge: null, subnets: [], error: `not JSON (${(error as Error).message})`}
  }
  if (typeof raw !== 'object' || raw === null) return {file, name: null, cniVersion: null, plugins: [], bridge: null, subnets: [], error: 'not a JSON object'}
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
    error: types.length === 0 ? 'no plugin "type"' : null,
  }
}

/** The config libcni would use: first by file name among valid ones. */
export function cniConfigInUse(configs: CniConfig[]): CniConfig | null {
  return [...configs].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0)).find((c) => c.error === null) ?? null
}
