// kube-proxy-shaped rule sets for tests that play kube-proxy on a real kernel: iptables-restore
// input (bench/svc-gen.mjs, both backends) and kube-proxy's nftables mode (`nft -f` text in the
// shape of pkg/proxy/nftables: its base rules, then per service port a service- chain picking an
// endpoint- chain with `numgen random mod N vmap`, affinity sets, no-endpoint-services).
// @ts-expect-error plain JS generator shared with the benchmark
import {chainHash, kubeProxyRestore} from '../../bench/svc-gen.mjs'

export interface ServiceSpec {
  namespace: string
  name: string
  portName: string
  protocol: 'tcp' | 'udp'
  clusterIP: string
  port: number
  /** ClientIP session affinity timeout, seconds */
  sessionAffinity?: number
  endpoints: Array<{ip: string; port: number}>
}

export function iptablesRestore(services: ServiceSpec[], clusterCIDR: string): string {
  return kubeProxyRestore(services, {hooks: true, clusterCIDR}) as string
}

const hash8 = (...parts: string[]) => (chainHash(...parts) as string).slice(0, 8)

/** kube-proxy's nftables base rules (pkg/proxy/nftables proxier_test.go baseRules), with this test's service CIDR. */
function baseRules(serviceCIDR: string): string[] {
  return [
    'add table ip kube-proxy { comment "rules for kube-proxy" ; }',
    'add set ip kube-proxy cluster-ips { type ipv4_addr ; comment "Active ClusterIPs" ; }',
    'add set ip kube-proxy nodeport-ips { type ipv4_addr ; comment "IPs that accept NodePort traffic" ; }',
    'add map ip kube-proxy firewall-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "destinations that are subject to LoadBalancerSourceRanges" ; }',
    'add map ip kube-proxy no-endpoint-nodeports { type inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to service nodeports with no endpoints" ; }',
    'add map ip kube-proxy no-endpoint-services { type ipv4_addr . inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to services with no endpoints" ; }',
    'add map ip kube-proxy service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }',
    'add map ip kube-proxy service-nodeports { type inet_proto . inet_service : verdict ; comment "NodePort traffic" ; }',
    'add chain ip kube-proxy cluster-ips-check',
    'add chain ip kube-proxy filter-prerouting-pre-dnat { type filter hook prerouting priority -110 ; }',
    'add chain ip kube-proxy filter-output-pre-dnat { type filter hook output priority -110 ; }',
    'add chain ip kube-proxy filter-forward { type filter hook forward priority 0 ; }',
    'add chain ip kube-proxy filter-input { type filter hook input priority 0 ; }',
    'add chain ip kube-proxy filter-output { type filter hook output priority 0 ; }',
    'add chain ip kube-proxy firewall-check',
    'add chain ip kube-proxy mark-for-masquerade',
    'add chain ip kube-proxy masquerading',
    'add chain ip kube-proxy nat-output { type nat hook output priority -100 ; }',
    'add chain ip kube-proxy nat-postrouting { type nat hook postrouting priority 100 ; }',
    'add chain ip kube-proxy nat-prerouting { type nat hook prerouting priority -100 ; }',
    'add chain ip kube-proxy nodeport-endpoints-check',
    'add chain ip kube-proxy reject-chain { comment "helper for @no-endpoint-services / @no-endpoint-nodeports" ; }',
    'add chain ip kube-proxy services',
    'add chain ip kube-proxy service-endpoints-check',
    'add rule ip kube-proxy cluster-ips-check ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"',
    `add rule ip kube-proxy cluster-ips-check ip daddr { ${serviceCIDR} } drop comment "Drop traffic to unallocated ClusterIPs"`,
    'add rule ip kube-proxy filter-prerouting-pre-dnat ct state new jump firewall-check',
    'add rule ip kube-proxy filter-forward ct state new jump service-endpoints-check',
    'add rule ip kube-proxy filter-forward ct state new jump cluster-ips-check',
    'add rule ip kube-proxy filter-input ct state new jump nodeport-endpoints-check',
    'add rule ip kube-proxy filter-input ct state new jump service-endpoints-check',
    'add rule ip kube-proxy filter-output ct state new jump service-endpoints-check',
    'add rule ip kube-proxy filter-output-pre-dnat ct state new jump firewall-check',
    'add rule ip kube-proxy filter-output ct state new jump cluster-ips-check',
    'add rule ip kube-proxy firewall-check ip daddr . meta l4proto . th dport vmap @firewall-ips',
    'add rule ip kube-proxy mark-for-masquerade mark set mark or 0x4000',
    'add rule ip kube-proxy masquerading mark and 0x4000 == 0 return',
    'add rule ip kube-proxy masquerading mark set mark xor 0x4000',
    'add rule ip kube-proxy masquerading masquerade fully-random',
    'add rule ip kube-proxy nat-output jump services',
    'add rule ip kube-proxy nat-postrouting jump masquerading',
    'add rule ip kube-proxy nat-prerouting jump services',
    'add rule ip kube-proxy nodeport-endpoints-check ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports',
    'add rule ip kube-proxy reject-chain reject',
    'add rule ip kube-proxy services ip daddr . meta l4proto . th dport vmap @service-ips',
    'add rule ip kube-proxy services ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports',
    'add rule ip kube-proxy service-endpoints-check ip daddr . meta l4proto . th dport vmap @no-endpoint-services',
  ]
}

/** `nft -f` input for kube-proxy's nftables mode. Chains and sets come first: a rule may only name a chain that exists. */
export function nftablesScript(services: ServiceSpec[], clusterCIDR: string, serviceCIDR: string): string {
  const declare: string[] = []
  const rules: string[] = []
  for (const s of services) {
    const base = `${s.namespace}/${s.name}/${s.protocol}/${s.portName}`
    const id = hash8(s.namespace, s.name, s.protocol, s.portName)
    rules.push(`add element ip kube-proxy cluster-ips { ${s.clusterIP} }`)
    if (!s.endpoints.length) {
      rules.push(`add element ip kube-proxy no-endpoint-services { ${s.clusterIP} . ${s.protocol} . ${s.port} comment "${s.namespace}/${s.name}:${s.portName}" : goto reject-chain }`)
      continue
    }
    const svc = `service-${id}-${base}`
    const endpoint = (e: {ip: string; port: number}) => `endpoint-${hash8(base, e.ip, String(e.port))}-${base}__${e.ip}/${e.port}`
    const affinity = (e: {ip: string; port: number}) => `affinity-${hash8(base, e.ip, String(e.port))}-${base}__${e.ip}/${e.port}`
    declare.push(`add chain ip kube-proxy ${svc}`)
    rules.push(`add rule ip kube-proxy ${svc} ip daddr ${s.clusterIP} ip saddr != ${clusterCIDR} jump mark-for-masquerade`)
    if (s.sessionAffinity) {
      for (const e of s.endpoints) {
        declare.push(`add set ip kube-proxy ${affinity(e)} { type ipv4_addr ; flags dynamic,timeout ; timeout ${s.sessionAffinity}s ; }`)
        rules.push(`add rule ip kube-proxy ${svc} ip saddr @${affinity(e)} goto ${endpoint(e)}`)
      }
    }
    rules.push(`add rule ip kube-proxy ${svc} numgen random mod ${s.endpoints.length} vmap { ${s.endpoints.map((e, i) => `${i} : goto ${endpoint(e)}`).join(' , ')} }`)
    for (const e of s.endpoints) {
      declare.push(`add chain ip kube-proxy ${endpoint(e)}`)
      rules.push(`add rule ip kube-proxy ${endpoint(e)} ip saddr ${e.ip} jump mark-for-masquerade`)
      if (s.sessionAffinity) rules.push(`add rule ip kube-proxy ${endpoint(e)} update @${affinity(e)} { ip saddr }`)
      rules.push(`add rule ip kube-proxy ${endpoint(e)} meta l4proto ${s.protocol} dnat to ${e.ip}:${e.port}`)
    }
    rules.push(`add element ip kube-proxy service-ips { ${s.clusterIP} . ${s.protocol} . ${s.port} : goto ${svc} }`)
  }
  return [...baseRules(serviceCIDR), ...declare, ...rules].join('\n') + '\n'
}
