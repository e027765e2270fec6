// IPVS mode, read-only: each virtual server is a service port; each real server an endpoint
// whose share is its weight over the sum (rr/wrr/lc... all spread by weight over time).

import {parseIpvsadm} from '../parse/ipvs.js'
import {canonicalIp} from './iptables-walk.js'
import type {ProxyTrace, ServiceTrace} from './types.js'

/** kube-proxy binds NodePorts on node addresses; the default NodePort range tells them apart. */
const NODEPORT_RANGE = [30000, 32767]

/** serviceIps: the addresses on kube-ipvs0, when known; then any other address is a node's (NodePort). */
export function traceIpvs(text: string, source = 'ipvsadm -Ln', serviceIps?: string[]): ProxyTrace {
  const servers = parseIpvsadm(text)
  const onDummy = serviceIps ? new Set(serviceIps.map(canonicalIp)) : null
  const services: ServiceTrace[] = servers.filter((v) => v.protocol !== 'FWM').map((v) => {
    const total = v.reals.reduce((s, r) => s + r.weight, 0)
    const nodePort = onDummy ? !onDummy.has(canonicalIp(v.ip)) : v.port !== null && v.port >= NODEPORT_RANGE[0] && v.port <= NODEPORT_RANGE[1]
    const problems: string[] = []
    if (v.reals.length === 0) problems.push('no endpoints: IPVS virtual server has no real servers (connections are refused)')
    else if (total === 0) problems.push('every real server has weight 0: no new connections are scheduled')
    return {
      service: null,
      protocol: v.protocol.toLowerCase(),
      mode: 'ipvs' as const,
      chain: null,
      frontends: [{kind: nodePort ? 'nodePort' as const : 'clusterIP' as const, ip: canonicalIp(v.ip), port: v.port ?? 0, chain: null, dnatProbability: v.reals.length && total ? 1 : 0, dnatWhen: [], otherwise: null}],
      endpoints: v.reals.map((r) => ({
        ip: canonicalIp(r.ip), port: r.port, probability: total ? r.weight / total : 0, ruleProbability: null, chain: `${v.scheduler} ${r.forward} weight ${r.weight}`,
        location: 'unknown' as const, pod: null, route: null, masqueradeWhen: r.forward === 'Masq' ? ['always (IPVS Masq)'] : [], problems: [],
      })),
      sessionAffinity: v.persistentSeconds !== null ? {type: 'ClientIP' as const, timeoutSeconds: v.persistentSeconds} : null,
      masquerade: [],
      externalTrafficPolicy: null,
      internalTrafficPolicy: null,
      healthCheckNodePort: null,
      verdict: v.reals.length ? 'DNAT' : 'REJECT (IPVS, no real servers)',
      problems,
      path: [{table: 'ipvs', chain: `${v.protocol} ${v.ip}:${v.port} ${v.scheduler}${v.persistentSeconds !== null ? ` persistent ${v.persistentSeconds}` : ''}`, rule: `${v.reals.length} real server(s)`}],
    }
  })
  return {
    mode: services.length ? 'ipvs' : 'none', source, masqueradeMark: null, clusterCIDR: null, services, unresolved: [],
    problems: [], notes: services.length ? [`IPVS mode: virtual servers carry no service names; NodePorts told apart ${onDummy ? 'by not being on kube-ipvs0' : 'by the default 30000-32767 range (kube-ipvs0 not read)'}`] : [],
  }
}
