import type {Host} from '../host/host.js'
import {type Route, parseIpRouteJson, parseProcNetRoute} from '../parse/route.js'
import {oncePerHost} from './once-per-host.js'

/**
 * The node's routes: `ip -j route show table all` for IPv4 and IPv6 where iproute2 is present,
 * else the IPv4 main table from /proc/1/net/route (PID 1 sits in the node's network namespace).
 */
export const gatherHostRoutes = oncePerHost(readHostRoutes)

async function readHostRoutes(host: Host): Promise<Route[]> {
  const v4 = await host.run(['ip', '-j', '-4', 'route', 'show', 'table', 'all'])
  if (v4 && v4.exitCode === 0 && v4.stdout.trim()) {
    const v6 = await host.run(['ip', '-j', '-6', 'route', 'show', 'table', 'all'])
    const routes = safeParse(v4.stdout, host, 'ip -j -4 route')
    if (v6 && v6.exitCode === 0 && v6.stdout.trim()) routes.push(...safeParse(v6.stdout, host, 'ip -j -6 route'))
    return routes
  }
  const text = await host.readFile('/proc/1/net/route')
  return text ? parseProcNetRoute(text) : []
}

function safeParse(text: string, host: Host, what: string): Route[] {
  try {
    return parseIpRouteJson(text)
  } catch (error) {
    host.warnings.add(`parse:${what}`, `${(error as Error).message}; routes skipped`)
    return []
  }
}
