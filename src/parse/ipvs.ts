// `ipvsadm -Ln` (also -L -n): IPVS virtual servers and their real servers.

export interface IpvsRealServer {
  ip: string
  port: number
  forward: string
  weight: number
  activeConnections: number
  inactiveConnections: number
}

export interface IpvsVirtualServer {
  protocol: 'TCP' | 'UDP' | 'SCTP' | 'FWM'
  /** the address, or the firewall mark for FWM */
  ip: string
  port: number | null
  scheduler: string
  /** `persistent N`: ClientIP affinity timeout in seconds */
  persistentSeconds: number | null
  flags: string[]
  reals: IpvsRealServer[]
}

export class IpvsParseError extends Error {}

function hostPort(text: string, line: number): {ip: string; port: number} {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text)
  if (!m) throw new IpvsParseError(`line ${line}: not an address:port: ${text}`)
  return {ip: m[1], port: Number(m[2])}
}

export function parseIpvsadm(text: string): IpvsVirtualServer[] {
  const out: IpvsVirtualServer[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trimEnd()
    const lineNo = i + 1
    if (!line.trim() || /^(IP Virtual Server|Prot LocalAddress|\s+-> RemoteAddress)/.test(line)) continue
    const virtual = /^(TCP|UDP|SCTP|FWM)\s+(\S+)\s+(\S+)(.*)$/.exec(line)
    if (virtual) {
      const [, protocol, address, scheduler, rest] = virtual
      const fwm = protocol === 'FWM'
      const {ip, port} = fwm ? {ip: address, port: null} : hostPort(address, lineNo)
      const persistent = /persistent\s+(\d+)/.exec(rest)
      out.push({
        protocol: protocol as IpvsVirtualServer['protocol'], ip, port, scheduler,
        persistentSeconds: persistent ? Number(persistent[1]) : null,
        flags: rest.replace(/persistent\s+\d+/, '').trim().split(/\s+/).filter(Boolean),
        reals: [],
      })
      continue
    }
    const real = /^\s+->\s+(\S+)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)/.exec(line)
    if (real) {
      const current = out.at(-1)
      if (!current) throw new IpvsParseError(`line ${lineNo}: real server before any virtual server`)
      const {ip, port} = hostPort(real[1], lineNo)
      current.reals.push({ip, port, forward: real[2], weight: Number(real[3]), activeConnections: Number(real[4]), inactiveConnections: Number(real[5])})
      continue
    }
    throw new IpvsParseError(`line ${lineNo}: not ipvsadm -Ln output: ${line.slice(0, 80)}`)
  }
  return out
}
