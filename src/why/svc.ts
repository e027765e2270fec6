// `why svc NAME --from-pod POD | --from-node`: can this sender reach this Service? The sender's own
// route to the ClusterIP, the Service in kube-proxy's rules, then the shared path (hook, endpoints,
// hairpin when the sender is its own endpoint, routes, pods, the node's prerequisites).

import type {Host} from '../host/host.js'
import type {PodReport} from '../pods/types.js'
import {longestPrefixMatch, parseProcNetRoute} from '../parse/route.js'
import {locateEndpoints} from '../svc/locate.js'
import type {SvcQuery} from '../svc/correlate.js'
import {runChain} from './chain.js'
import {nodeLinks, nodePods, nodeRoutes, serviceReport} from './facts.js'
import {PATH_LINKS, type PathContext, endpointPodLink, endpointRouteLink, endpointsLink, hookLink} from './path-links.js'
import {netnsPid, readHairpinMode, runningContainer} from './pod-files.js'
import {type Prober, probeLink} from './probe.js'
import {type Link, type WhyReport, broken, notReached, ok, unknown} from './types.js'

export interface SvcWhyContext extends PathContext {
  query: SvcQuery
}

const label = (pod: PodReport) => `${pod.namespace ?? '?'}/${pod.name ?? pod.uid}`

export const serviceLink: Link<SvcWhyContext> = {
  name: 'service',
  async check(context) {
    const report = await serviceReport(context.host, context.query)
    const wanted = `${context.query.namespace ? `${context.query.namespace}/` : ''}${context.query.name}${context.query.port ? ` port ${context.query.port}` : ''}`
    const service = report.services[0]
    if (!service) {
      const hole = report.unresolved[0]
      if (hole) return broken(`${hole.ip}:${hole.port}/${hole.protocol} jumps to ${hole.chain}, which does not exist`, 'kube-proxy\'s rules are half-written: restart kube-proxy', report.problems.slice(0, 3))
      return broken(`Service ${wanted} is not in kube-proxy's rules (${report.mode}: ${report.source})`, 'kube-proxy has not written it: check that the Service exists (kubectl get svc) and kube-proxy\'s log; --port picks one port of a multi-port Service', report.problems.slice(0, 3))
    }
    const frontend = service.frontends.find((f) => f.kind === 'clusterIP' && f.ip) ?? service.frontends.find((f) => f.ip)
    if (!frontend?.ip) return unknown(`${service.service} has no ClusterIP frontend in the rules (only NodePorts): not traced`)
    context.service = service
    context.protocol = service.protocol === 'udp' ? 'udp' : 'tcp'
    context.frontend = {ip: frontend.ip, port: frontend.port}
    const [routes, pods] = await Promise.all([nodeRoutes(context.host), nodePods(context.host)])
    locateEndpoints([service], {routes, pods})
    context.targets = service.endpoints
    const others = report.services.slice(1).map((s) => s.service)
    return ok(`${service.service} is ${frontend.ip}:${frontend.port}/${service.protocol} (${service.mode})${others.length ? `; also ${others.join(', ')} (pick with --port)` : ''}`, [`${report.mode}: ${report.source}`, ...service.path.slice(0, 2).map((h) => `${h.table} ${h.chain}: ${h.rule}`)])
  },
}

export const senderLink: Link<SvcWhyContext> = {
  name: 'sender',
  async check({host, source, frontend}) {
    if (!source) return ok('the node itself: its packets enter nat OUTPUT')
    const running = runningContainer(source)
    if (!running) return broken(`no container of ${label(source)} runs`, `nodedoc why pod ${source.name ?? ''} -n ${source.namespace ?? ''}`)
    if (source.hostNetwork) return ok(`${label(source)} uses the node's network namespace: its packets enter nat OUTPUT`)
    if (!frontend) return notReached('no Service address')
    const pid = netnsPid(source)!
    const text = await host.readFile(`/proc/${pid}/net/route`)
    if (text === undefined) return unknown(`/proc/${pid}/net/route not read`)
    const route = longestPrefixMatch(parseProcNetRoute(text), frontend.ip)
    const evidence = [`${label(source)} IP ${source.ips.join(', ') || 'none'}, interfaces ${source.interfaces.map((i) => i.name).join(', ') || 'none'}`, `/proc/${pid}/net/route: ${route ? `${route.destination} dev ${route.dev}${route.via ? ` via ${route.via}` : ''}` : `no route to ${frontend.ip}`}`]
    if (!route) return broken(`${label(source)} has no route to ${frontend.ip} in its network namespace`, 'the CNI plugin gives pods a default route at start (ipam routes): recreate the pod or fix the CNI config', evidence)
    return ok(`${label(source)} sends ${frontend.ip} out ${route.dev}${route.via ? ` via ${route.via}` : ''}`, evidence)
  },
}

export const hairpinLink: Link<SvcWhyContext> = {
  name: 'hairpin',
  async check({host, source, targets}) {
    if (!targets) return notReached('no endpoint')
    const self = source && !source.hostNetwork ? targets.find((t) => source.ips.includes(t.ip)) : undefined
    if (!self) return ok('the sender is not one of the endpoints')
    const evidence: string[] = [`${self.ip} is the sender itself (${self.chain}, ${Math.round(self.probability * 1000) / 10}% of new connections)`]
    if (self.masqueradeWhen.length === 0) return broken(`${self.chain} does not mark the sender's own packets for masquerade: the reply would come from its own address and be dropped`, 'kube-proxy writes "-s <endpoint IP> -j KUBE-MARK-MASQ" in each KUBE-SEP chain: let it rewrite its rules', evidence)
    evidence.push(`masquerade when ${self.masqueradeWhen.join(', ')}`)
    const veth = source!.hostVeth?.name
    const master = veth ? (await nodeLinks(host)).find((l) => l.name === veth)?.master : undefined
    if (veth && master) {
      const mode = await readHairpinMode(host, veth)
      evidence.push(`/sys/class/net/${veth}/brport/hairpin_mode = ${mode ?? 'unreadable'}`)
      if (mode === 0) return broken(`${veth} on bridge ${master} has hairpin_mode 0: the bridge will not send the pod's own packets back to it`, `set hairpinMode: true in the bridge CNI config; now: echo 1 > /sys/class/net/${veth}/brport/hairpin_mode`, evidence)
    }
    return ok('the sender is its own endpoint, and the hairpin path is open (masquerade, hairpin mode)', evidence)
  },
}

export interface WhySvcOptions {
  prober?: Prober
}

export function svcLinks(options: WhySvcOptions = {}): Array<Link<SvcWhyContext>> {
  const path = PATH_LINKS.filter((l) => ![hookLink, endpointsLink, endpointRouteLink, endpointPodLink].includes(l)) as Array<Link<SvcWhyContext>>
  return [
    serviceLink, senderLink, hookLink, endpointsLink, hairpinLink, endpointRouteLink, endpointPodLink, ...path,
    ...(options.prober ? [probeLink<SvcWhyContext>(options.prober)] : []),
  ] as Array<Link<SvcWhyContext>>
}

/** source: the sending pod, or null for the node itself. */
export async function whySvc(host: Host, query: SvcQuery, source: PodReport | null, options: WhySvcOptions = {}): Promise<WhyReport> {
  const context: SvcWhyContext = {host, source, protocol: (query.protocol as 'udp' | 'tcp') ?? 'tcp', query}
  const to = `${query.namespace && !query.name?.includes('/') ? `${query.namespace}/` : ''}${query.name}${query.port ? `:${query.port}` : ''}`
  return runChain(`${source ? `pod ${label(source)}` : 'the node'} -> Service ${to}`, svcLinks(options), context)
}

/** For snapshots: what the sender links read of every pod. */
export async function readSenderFacts(host: Host): Promise<void> {
  for (const pod of await nodePods(host)) {
    const pid = netnsPid(pod)
    if (pid !== null && !pod.hostNetwork) await host.readFile(`/proc/${pid}/net/route`)
    if (pod.hostVeth) await readHairpinMode(host, pod.hostVeth.name)
  }
}
