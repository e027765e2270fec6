// `why dns POD`: why lookups from a pod fail. Its resolv.conf as the container sees it, the
// nameserver as a Service in kube-proxy's rules, the rest of the packet's path (path-links.ts),
// then the search list that multiplies every lookup.

import type {Host} from '../host/host.js'
import type {PodReport} from '../pods/types.js'
import {KUBELET_MAX_SEARCH, KUBELET_MAX_SEARCH_CHARS, MAX_NAMESERVERS, searchFanOut} from '../parse/resolv-conf.js'
import {printableLine} from '../output/escape.js'
import {locateEndpoints} from '../svc/locate.js'
import type {EndpointTrace, ServiceTrace} from '../svc/types.js'
import {runChain} from './chain.js'
import {nodePods, nodeRoutes, podByIp, serviceReport} from './facts.js'
import {PATH_LINKS, type PathContext} from './path-links.js'
import {type ResolvRead, readResolvConf, runningContainer} from './pod-files.js'
import {type Prober, probeLink} from './probe.js'
import {type Link, type WhyReport, broken, notReached, ok, unknown} from './types.js'

export const DNS_PORT = 53

export interface DnsContext extends PathContext {
  client: PodReport
  resolv?: ResolvRead
}

const label = (pod: PodReport) => `${pod.namespace ?? '?'}/${pod.name ?? pod.uid}`

export const clientLink: Link<DnsContext> = {
  name: 'client pod',
  async check({client}) {
    const running = runningContainer(client)
    const evidence = [
      `pod ${label(client)} uid ${client.uid}, sandbox PID ${client.sandbox.pid ?? 'none'}`,
      client.hostNetwork ? 'hostNetwork: the node\'s network namespace' : `IP ${client.ips.join(', ') || 'none'}${client.hostVeth ? `, node side ${client.hostVeth.name}` : ''}${client.sandbox.namespaces.net ? `, netns net:[${client.sandbox.namespaces.net}]` : ''}`,
    ]
    if (!running) return broken(`no container of ${label(client)} runs: nothing in it can look anything up`, `nodedoc why pod ${client.name ?? ''} -n ${client.namespace ?? ''}`, evidence)
    return ok(`${label(client)} runs (container ${running.name}, PID ${running.pid})`, evidence)
  },
}

export const resolvConfLink: Link<DnsContext> = {
  name: 'resolv.conf',
  async check(context) {
    const read = (context.resolv = await readResolvConf(context.host, context.client))
    if ('problem' in read) return unknown(read.problem)
    const {conf} = read
    const from = read.via === 'mount' ? `/etc/resolv.conf of ${read.container} is a bind mount of ${read.path}` : `/etc/resolv.conf of ${read.container}: ${read.path}`
    const evidence = [
      from,
      ...conf.nameservers.map((n) => `nameserver ${printableLine(n, 60)}`),
      conf.search.length ? `search ${conf.search.map((s) => printableLine(s, 80)).join(' ')}` : 'no search list',
      `options ${[conf.ndots !== null ? `ndots:${conf.ndots}` : null, conf.timeout !== null ? `timeout:${conf.timeout}` : null, conf.attempts !== null ? `attempts:${conf.attempts}` : null, ...conf.options.map((o) => printableLine(o, 40))].filter(Boolean).join(' ') || 'none'}`,
    ]
    if (conf.nameservers.length === 0) return broken('no nameserver line: the resolver asks 127.0.0.1, where nothing in the pod answers', 'the kubelet writes nameserver from --cluster-dns (dnsPolicy ClusterFirst); check the kubelet config and the pod\'s dnsPolicy/dnsConfig', evidence)
    const address = conf.nameservers[0]
    if (!/^[0-9a-fA-F:.]{2,45}$/.test(address)) return broken(`nameserver "${printableLine(address, 60)}" is not an IP address`, 'fix dnsConfig.nameservers in the pod spec (or the kubelet\'s --cluster-dns)', evidence)
    context.frontend = {ip: address, port: DNS_PORT}
    const extra = conf.nameservers.length > MAX_NAMESERVERS ? ` (only the first ${MAX_NAMESERVERS} are used)` : ''
    return ok(`nameserver ${address}${extra}`, evidence)
  },
}

/** A Service trace carrying one endpoint: the nameserver is a pod's own address. */
function direct(ip: string): ServiceTrace {
  const ep: EndpointTrace = {ip, port: DNS_PORT, probability: 1, ruleProbability: null, chain: '(direct)', location: 'unknown', pod: null, route: null, masqueradeWhen: [], problems: []}
  return {service: null, protocol: 'udp', mode: 'iptables', chain: null, frontends: [], endpoints: [ep], sessionAffinity: null, masquerade: [], externalTrafficPolicy: null, internalTrafficPolicy: null, healthCheckNodePort: null, verdict: 'DNAT', problems: [], path: []}
}

export const nameserverLink: Link<DnsContext> = {
  name: 'nameserver Service',
  async check(context) {
    const frontend = context.frontend
    if (!frontend) return notReached('no nameserver address')
    const [udp, tcp] = await Promise.all([
      serviceReport(context.host, {ip: frontend.ip, port: String(DNS_PORT), protocol: 'udp'}),
      serviceReport(context.host, {ip: frontend.ip, port: String(DNS_PORT), protocol: 'tcp'}),
    ])
    const service = udp.services[0]
    const hole = udp.unresolved[0]
    if (hole) return broken(`${frontend.ip}:53/udp jumps to ${hole.chain}, which does not exist`, 'kube-proxy\'s rules are half-written: restart kube-proxy', udp.problems.slice(0, 3))
    if (service) {
      context.service = service
      const [routes, pods] = await Promise.all([nodeRoutes(context.host), nodePods(context.host)])
      locateEndpoints([service], {routes, pods})
      context.targets = service.endpoints
      const evidence = [`${udp.mode}: ${udp.source}`, ...service.path.slice(0, 2).map((h) => `${h.table} ${h.chain}: ${printableLine(h.rule, 160)}`)]
      const noTcp = tcp.services.length ? '' : '; no tcp 53 frontend, so truncated answers cannot be retried over TCP'
      return ok(`${frontend.ip}:53/udp is Service ${service.service ?? '(unnamed)'} (${service.mode})${noTcp}`, evidence)
    }
    const pod = await podByIp(context.host, frontend.ip)
    if (pod) {
      const trace = direct(frontend.ip)
      const [routes, pods] = await Promise.all([nodeRoutes(context.host), nodePods(context.host)])
      locateEndpoints([trace], {routes, pods})
      context.targets = trace.endpoints
      return ok(`${frontend.ip} is pod ${label(pod)} on this node, asked directly (no Service)`, [`pod ${label(pod)} holds ${frontend.ip}`])
    }
    const routes = await nodeRoutes(context.host)
    if (routes.some((r) => r.type === 'local' && r.destination.split('/')[0] === frontend.ip)) {
      return unknown(`${frontend.ip} is an address of this node (a node-local DNS cache?): not traced further`, [`local route ${frontend.ip}`])
    }
    return broken(
      `nameserver ${frontend.ip} is not a Service frontend in kube-proxy's rules (${udp.mode}: ${udp.source}), nor a pod or an address of this node: nothing DNATs or answers lookups sent there`,
      'the kubelet writes --cluster-dns (clusterDNS) into resolv.conf: it must be the kube-dns Service\'s ClusterIP (kubectl -n kube-system get svc kube-dns); a pod with dnsPolicy None brings its own',
      [`${udp.mode}: no udp frontend ${frontend.ip}:53`, ...udp.problems.slice(0, 2)],
    )
  },
}

export const searchLink: Link<DnsContext> = {
  name: 'search/ndots',
  async check({resolv}) {
    if (!resolv || 'problem' in resolv) return notReached('resolv.conf not read')
    const {conf} = resolv
    const chars = conf.search.join(' ').length
    const ndots = conf.ndots ?? 1
    const fan = searchFanOut(conf, 2)
    const evidence = [`ndots:${ndots}, ${conf.search.length} search domain(s) (${chars} characters)`]
    if (conf.search.length > KUBELET_MAX_SEARCH || chars > KUBELET_MAX_SEARCH_CHARS) {
      return broken(`search list of ${conf.search.length} domains / ${chars} characters is over the resolver limits (${KUBELET_MAX_SEARCH} / ${KUBELET_MAX_SEARCH_CHARS}): domains past them are dropped`, 'shorten dnsConfig.searches (or the node\'s own resolv.conf search line, which the kubelet appends)', evidence)
    }
    const detail = fan
      ? `a name with fewer than ${ndots} dots (api.example.com) is first tried as ${fan} search name(s), each for A and AAAA: ${(fan + 1) * 2} queries per lookup; end names with a dot, or set ndots lower in dnsConfig`
      : 'names are tried as written first'
    return ok(detail, evidence)
  },
}

export interface WhyDnsOptions {
  prober?: Prober
}

/** The chain, in the order a lookup depends on it. */
export function dnsLinks(options: WhyDnsOptions = {}): Array<Link<DnsContext>> {
  return [clientLink, resolvConfLink, nameserverLink, ...(PATH_LINKS as Array<Link<DnsContext>>), searchLink, ...(options.prober ? [probeLink<DnsContext>(options.prober)] : [])]
}

export async function whyDns(host: Host, client: PodReport, options: WhyDnsOptions = {}): Promise<WhyReport> {
  const context: DnsContext = {host, client, source: client, protocol: 'udp'}
  return runChain(`dns lookups from pod ${label(client)}`, dnsLinks(options), context)
}
