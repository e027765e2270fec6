import type {Host} from '../../host/host.js'
import {type Check, byFill, percent, skip} from '../check.js'

export interface ConntrackFacts {
  count: number | undefined
  max: number | undefined
}

export const conntrackTable: Check<ConntrackFacts> = {
  id: 'conntrack-table',
  area: 'kernel',
  title: 'conntrack table has room',
  why: 'every Service connection holds a conntrack entry; a full table drops new connections ("nf_conntrack: table full, dropping packet")',
  async gather(host: Host) {
    const num = async (path: string) => {
      const text = await host.readFile(path)
      return text === undefined ? undefined : Number(text.trim())
    }
    return {count: await num('/proc/sys/net/netfilter/nf_conntrack_count'), max: await num('/proc/sys/net/netfilter/nf_conntrack_max')}
  },
  evaluate({count, max}) {
    if (count === undefined || max === undefined) return skip('nf_conntrack is not loaded (no /proc/sys/net/netfilter/nf_conntrack_count)')
    const used = percent(count, max)
    const seen = `${count} of ${max} entries (${used}%)`
    const fix = 'raise net.netfilter.nf_conntrack_max (kube-proxy --conntrack-max-per-core), and look for a client opening connections in a loop (conntrack -L | sort)'
    return byFill(used, seen, fix)
  },
}
