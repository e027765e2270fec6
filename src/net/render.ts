import {columns} from '../output/table.js'
import type {NetReport, PodOnLink} from './net-map.js'
import type {DocumentShape} from '../output/output.js'

function pod(p: PodOnLink | null | undefined): string {
  if (!p) return ''
  return `${p.namespace ?? '?'}/${p.name ?? p.uid}${p.ip ? ` ${p.ip}` : ''}`
}

/** `nodedoc net`: routes, bridges, CNI config, then the mismatches. */
export function renderNet(report: NetReport, wide: boolean): string {
  const out: string[] = []
  const defaults = report.defaultRoutes.map((r) => `${r.via ?? 'on-link'} dev ${r.dev}`)
  out.push(`Default route: ${defaults.length ? defaults.join(', ') : 'none'}`)
  const cni = report.cni.inUse
  out.push(`CNI config:    ${cni ? `${report.cni.dir}/${cni.file} (network ${cni.name ?? '?'}: ${cni.plugins.join(' -> ')}${cni.subnets.length ? `, subnets ${cni.subnets.join(' ')}` : ''})` : `none usable in ${report.cni.dir}`}`)
  if (!report.cni.source.startsWith('default')) out.push(`               (folder from ${report.cni.source})`)
  for (const bad of report.cni.files.filter((f) => f.error)) out.push(`               ${report.cni.dir}/${bad.file}: ${bad.error}`)
  out.push('')
  const devices = new Map(report.devices.map((d) => [d.name, d]))
  const head = ['destination', 'dev', 'kind', 'via', 'scope', 'pod']
  if (wide) head.push('table', 'type', 'proto', 'peer-netns')
  out.push(columns(head, report.routes.map((r) => {
    const row: Array<string | null> = [r.destination, r.dev, r.devKind, r.via, r.scope, pod(r.pod)]
    if (wide) row.push(r.table, r.type, r.protocol, devices.get(r.dev)?.peerNetns ?? null)
    return row
  })).trimEnd())
  if (report.bridges.length) {
    out.push('')
    out.push(columns(['bridge', 'state', 'port', 'peer-netns', 'pod'], report.bridges.flatMap((b) =>
      b.ports.length === 0 ? [[b.name, b.state, '(no ports)', null, null]] : b.ports.map((p, i) => [i === 0 ? b.name : '', i === 0 ? b.state : '', p.name, p.peerNetns, p.pods.map(pod).join(', ')]),
    )).trimEnd())
  }
  const findings = [
    ...report.podIpsWithoutRoute.map((f) => `pod IP ${f.ip} (${pod(f.pod)}): ${f.message}`),
    ...report.routesToNoPod.map((f) => `route ${f.ip} dev ${f.dev}: ${f.message}`),
  ]
  if (findings.length) {
    out.push('')
    out.push('Findings:')
    for (const f of findings) out.push(`  ${f}`)
  }
  return out.join('\n') + '\n'
}

/** `net -o json`: one NodeNetwork document; its records are the routes. */
export const NET_DOCUMENT: DocumentShape<NetReport> = {
  kind: 'NodeNetwork',
  items: (r) => r.routes,
  withItems: (r, routes) => ({...r, routes: routes as NetReport['routes']}),
  name: (route: NetReport['routes'][number]) => `route/${route.destination}/${route.dev}`,
}
