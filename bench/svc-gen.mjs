// Writes iptables-restore input shaped like kube-proxy's (iptables mode, >= 1.27 layout):
// KUBE-SERVICES -> KUBE-SVC-<hash> -> KUBE-SEP-<hash> -> DNAT, REJECT in filter for services
// with no endpoints. Used by bench/svc-bench.mjs and by the real-traffic integration test.
import {createHash} from 'node:crypto'

/** kube-proxy's chain hash: sha256, base32, first 16 characters. */
export function chainHash(...parts) {
  const digest = createHash('sha256').update(parts.join('')).digest()
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let bits = 0
  let value = 0
  let out = ''
  for (const byte of digest) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
    if (out.length >= 16) break
  }
  return out.slice(0, 16)
}

/**
 * services: [{namespace, name, portName, protocol, clusterIP, port, nodePort?, sessionAffinity? (seconds: ClientIP), endpoints: [{ip, port}]}]
 * options: {hooks: add PREROUTING/OUTPUT/filter jumps as kube-proxy does, clusterCIDR, comments: false drops per-endpoint comments}
 */
export function kubeProxyRestore(services, options = {}) {
  const cidr = options.clusterCIDR ?? '10.0.0.0/8'
  const hooks = options.hooks ?? false
  const filter = ['*filter']
  const nat = ['*nat']
  const filterRules = []
  const natChains = [':KUBE-SERVICES - [0:0]', ':KUBE-NODEPORTS - [0:0]', ':KUBE-MARK-MASQ - [0:0]', ':KUBE-POSTROUTING - [0:0]']
  const natRules = []
  const svcRules = []
  const nodePortRules = []
  if (hooks) {
    filter.push(':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]')
    nat.push(':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]')
    filterRules.push(
      '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
      '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
      '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    )
    natRules.push(
      '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
    )
  }
  filter.push(':KUBE-SERVICES - [0:0]', ':KUBE-EXTERNAL-SERVICES - [0:0]')
  natRules.push(
    '-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000',
    '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
    '-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000',
    '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE',
  )
  for (const s of services) {
    const name = `${s.namespace}/${s.name}${s.portName !== undefined ? `:${s.portName}` : ''}`
    const proto = s.protocol ?? 'tcp'
    if (!s.endpoints.length) {
      filterRules.push(`-A KUBE-SERVICES -m comment --comment "${name} has no endpoints" -m ${proto} -p ${proto} -d ${s.clusterIP} --dport ${s.port} -j REJECT`)
      continue
    }
    const svc = `KUBE-SVC-${chainHash(name, proto)}`
    natChains.push(`:${svc} - [0:0]`)
    svcRules.push(`-A KUBE-SERVICES -m comment --comment "${name} cluster IP" -m ${proto} -p ${proto} -d ${s.clusterIP} --dport ${s.port} -j ${svc}`)
    natRules.push(`-A ${svc} -m comment --comment "${name} cluster IP" -m ${proto} -p ${proto} -d ${s.clusterIP} --dport ${s.port} ! -s ${cidr} -j KUBE-MARK-MASQ`)
    if (s.nodePort) {
      nodePortRules.push(`-A KUBE-NODEPORTS -m comment --comment ${name} -m ${proto} -p ${proto} --dport ${s.nodePort} -j ${svc}`)
    }
    const n = s.endpoints.length
    const sepOf = (ep) => `KUBE-SEP-${chainHash(name, proto, ep.ip, String(ep.port))}`
    // ClientIP affinity: a client the recent list knows goes straight back to its endpoint
    if (s.sessionAffinity) {
      for (const ep of s.endpoints) natRules.push(`-A ${svc} -m comment --comment "${name} -> ${ep.ip}:${ep.port}" -m recent --name ${sepOf(ep)} --mask 255.255.255.255 --rsource --rcheck --seconds ${s.sessionAffinity} --reap -j ${sepOf(ep)}`)
    }
    s.endpoints.forEach((ep, i) => {
      const sep = sepOf(ep)
      natChains.push(`:${sep} - [0:0]`)
      const comment = options.comments === false ? '' : `-m comment --comment "${name} -> ${ep.ip}:${ep.port}" `
      const stat = i < n - 1 ? `-m statistic --mode random --probability ${(1 / (n - i)).toFixed(10)} ` : ''
      natRules.push(`-A ${svc} ${comment}${stat}-j ${sep}`)
      natRules.push(`-A ${sep} -m comment --comment ${name} -s ${ep.ip} -j KUBE-MARK-MASQ`)
      const recent = s.sessionAffinity ? `-m recent --name ${sep} --mask 255.255.255.255 --rsource --set ` : ''
      natRules.push(`-A ${sep} -m comment --comment ${name} ${recent}-m ${proto} -p ${proto} -j DNAT --to-destination ${ep.ip}:${ep.port}`)
    })
  }
  svcRules.push('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS')
  return [...filter, ...filterRules, 'COMMIT', ...nat, ...natChains, ...svcRules, ...nodePortRules, ...natRules, 'COMMIT', ''].join('\n')
}

/** n services with 1..10 endpoints each (a fixed pseudo-random spread), ClusterIPs in 10.96/12, pods in 10.128/9. */
export function syntheticServices(n, options = {}) {
  let seed = options.seed ?? 1
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648
  const services = []
  let pod = 0
  for (let i = 0; i < n; i++) {
    const count = 1 + Math.floor(next() * 10)
    const endpoints = []
    for (let e = 0; e < count; e++, pod++) endpoints.push({ip: `10.${128 + ((pod >> 16) & 127)}.${(pod >> 8) & 255}.${pod & 255}`, port: 8080})
    services.push({
      namespace: `ns${i % 50}`, name: `svc-${i}`, portName: 'http', protocol: 'tcp',
      clusterIP: `10.${96 + ((i >> 16) & 15)}.${(i >> 8) & 255}.${i & 255}`, port: 80,
      nodePort: i % 10 === 0 ? 30000 + (i % 2700) : undefined,
      endpoints: i % 97 === 0 ? [] : endpoints,
    })
  }
  return services
}

/**
 * Services whose endpoints are the pods of the snapshot bench/gen-node-snapshot.mjs writes with
 * --net (pod i at 10.244.<i/250>.<i%250+2>; fd00:10:244::<i+2 in hex> for every 5th), and what
 * else an endpoint can be: the misrouted pod 3, the node's own address (pod 9 is on the node's
 * network), an address routed into the node that no pod owns, remote ones; and a service with no
 * endpoints. v4: iptables-save text; v6: ip6tables-save text (addresses in brackets as it prints them).
 */
export function nodeOwnerRules() {
  const podIp = (i) => `10.244.${Math.floor(i / 250)}.${(i % 250) + 2}`
  const ep = (ip) => ({ip, port: 8080})
  const v4 = [
    {namespace: 'team-a', name: 'web', portName: 'http', protocol: 'tcp', clusterIP: '10.96.0.10', port: 80, endpoints: [0, 2, 4, 6, 8, 10, 20, 30, 40, 100].map((i) => ep(podIp(i)))},
    {namespace: 'default', name: 'mixed', portName: 'http', protocol: 'tcp', clusterIP: '10.96.0.11', port: 80,
      endpoints: [ep(podIp(3)), ep(podIp(17)), ep('10.0.2.15'), ep('10.244.1.200'), ep('10.245.0.5'), ep('192.168.7.7')]},
    {namespace: 'default', name: 'empty', portName: 'http', protocol: 'tcp', clusterIP: '10.96.0.12', port: 80, endpoints: []},
  ]
  const v6 = [
    {namespace: 'team-a', name: 'web', portName: 'http', protocol: 'tcp', clusterIP: 'fd00:96::10', port: 80, endpoints: [0, 10, 20].map((i) => ep(`fd00:10:244::${(i + 2).toString(16)}`))},
    {namespace: 'default', name: 'mixed', portName: 'http', protocol: 'tcp', clusterIP: 'fd00:96::11', port: 80, endpoints: [ep('fd00:10:244::99'), ep('fd00::15'), ep('2001:db8::5')]},
  ]
  return {
    v4: kubeProxyRestore(v4, {hooks: true, clusterCIDR: '10.244.0.0/16'}),
    v6: kubeProxyRestore(v6, {hooks: true, clusterCIDR: 'fd00:10:244::/56'}).replace(/--to-destination ([0-9a-f:]+):(\d+)/g, '--to-destination [$1]:$2'),
  }
}
