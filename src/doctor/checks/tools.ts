import {type Host, hostPath} from '../../host/host.js'
import {type Check, fail, pass, warn} from '../check.js'

/** Programs the kubelet, kube-proxy and kubectl port-forward call on the node. */
export const REQUIRED_TOOLS = ['iptables', 'mount', 'nsenter', 'unshare', 'ip', 'ps']
/** Needed for some features only: port-forward (socat, dockershim era) and stale UDP conntrack cleanup. */
export const OPTIONAL_TOOLS = ['socat', 'conntrack']
const BIN_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']

export interface ToolsFacts {
  /** tool -> where it was found, null when nowhere */
  found: Record<string, string | null>
}

export const tools: Check<ToolsFacts> = {
  id: 'tools',
  area: 'prereqs',
  title: 'node programs present',
  why: 'kube-proxy writes rules with iptables, the kubelet mounts volumes and enters namespaces with mount/nsenter, conntrack clears stale UDP flows, socat serves port-forward',
  async gather(host: Host) {
    const found: Record<string, string | null> = {}
    // looked up in the node's own bin dirs (under --host-root), not in this process's PATH
    for (const tool of [...REQUIRED_TOOLS, ...OPTIONAL_TOOLS]) {
      found[tool] = null
      for (const dir of BIN_DIRS) {
        const s = await host.stat(hostPath(dir, tool))
        if (s && (s.kind === 'file' || s.kind === 'link')) {
          found[tool] = hostPath(dir, tool)
          break
        }
      }
    }
    return {found}
  },
  evaluate({found}) {
    const missing = REQUIRED_TOOLS.filter((t) => !found[t])
    const missingOptional = OPTIONAL_TOOLS.filter((t) => !found[t])
    const present = Object.keys(found).filter((t) => found[t])
    if (missing.length) return fail(`missing: ${[...missing, ...missingOptional].join(', ')}`, `install them (Debian: apt-get install iptables mount util-linux iproute2 procps socat conntrack)`, missing)
    if (missingOptional.length) return warn(`missing: ${missingOptional.join(', ')} (present: ${present.join(', ')})`, `apt-get install ${missingOptional.join(' ')}`, missingOptional)
    return pass(`all present: ${present.join(', ')}`)
  },
}
