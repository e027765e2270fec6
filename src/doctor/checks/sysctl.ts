import type {Host} from '../../host/host.js'
import {type Check, type Verdict, fail, pass} from '../check.js'

export interface SysctlFacts {
  /** the file's value; undefined when the file does not exist */
  value: string | undefined
}

/** A check that one /proc/sys value is 1. */
function mustBeOne(options: {id: string; title: string; path: string; why: string; absent: (path: string) => Verdict; fix: string}): Check<SysctlFacts> {
  return {
    id: options.id,
    area: 'kernel',
    title: options.title,
    why: options.why,
    gather: async (host: Host) => ({value: (await host.readFile(options.path))?.trim()}),
    evaluate({value}) {
      if (value === undefined) return options.absent(options.path)
      if (value === '1') return pass(`${options.path} = 1`)
      return fail(`${options.path} = ${value}`, options.fix)
    },
  }
}

export const ipForward = mustBeOne({
  id: 'ip-forward',
  title: 'IPv4 forwarding on',
  path: '/proc/sys/net/ipv4/ip_forward',
  why: 'pod traffic is routed through the node: with forwarding off, packets between pods, and to Services, are dropped',
  absent: (path) => fail(`${path} missing`, 'a kernel with IPv4 networking is needed'),
  fix: 'sysctl -w net.ipv4.ip_forward=1 and persist it in /etc/sysctl.d/k8s.conf',
})

export const bridgeNfCallIptables = mustBeOne({
  id: 'bridge-nf-call-iptables',
  title: 'bridged traffic goes through iptables (br_netfilter)',
  path: '/proc/sys/net/bridge/bridge-nf-call-iptables',
  why: 'with a bridge CNI, pod-to-Service packets between two pods on one bridge skip kube-proxy DNAT unless bridged frames pass iptables',
  absent: (path) => fail(`${path} missing: br_netfilter is not loaded`, 'modprobe br_netfilter; echo br_netfilter > /etc/modules-load.d/k8s.conf; sysctl -w net.bridge.bridge-nf-call-iptables=1'),
  fix: 'sysctl -w net.bridge.bridge-nf-call-iptables=1 and persist it in /etc/sysctl.d/k8s.conf',
})
