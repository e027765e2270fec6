import {describe, expect, it} from 'vitest'
import {type HostNetwork, type PodNetwork, pairHostVeth} from '../../../src/pods/pod-network.js'
import type {LinkRecord} from '../../../src/parse/net.js'
import {parseIpRouteJson} from '../../../src/parse/route.js'

const veth = (name: string, ifindex: number, iflink: number, linkNetnsId: number | null, master: string | null = 'cni0'): LinkRecord => ({name, ifindex, iflink, linkNetnsId, kind: 'veth', master, mac: null, state: 'UP'})
const bridge: LinkRecord = {name: 'cni0', ifindex: 5, iflink: null, linkNetnsId: null, kind: 'bridge', master: null, mac: null, state: 'UP'}

// a bridge node: every pod's eth0 is ifindex 2 in its own namespace
const bridgeNode = (netnsNames = new Map<number, string>(), netnsByInode = new Map<number, string>()): HostNetwork => ({
  links: [bridge, veth('veth1', 7, 2, 0), veth('veth2', 8, 2, 1), veth('veth3', 9, 2, 2)],
  netnsNames,
  netnsByInode,
  routes: parseIpRouteJson(JSON.stringify([{dst: '10.88.0.0/16', dev: 'cni0', scope: 'link'}])),
})
const pod = (peer?: number): PodNetwork => ({
  ips: ['10.88.0.3'],
  interfaces: [{name: 'eth0', ips: ['10.88.0.3']}],
  ifindex: new Map([['eth0', 2]]),
  peerIfindex: new Map(peer === undefined ? [] : [['eth0', peer]]),
})

describe('the node-side end of a pod veth', () => {
  it("the pod's own sysfs names it exactly", () => expect(pairHostVeth(bridgeNode(), pod(8), 4026532000)?.name).toBe('veth2'))
  it('without it, several veths share the peer index: the netns name decides', () => {
    const node = bridgeNode(new Map([[0, 'cni-a'], [1, 'cni-b'], [2, 'cni-c']]), new Map([[4026532000, 'cni-c']]))
    expect(pairHostVeth(node, pod(), 4026532000)?.name).toBe('veth3')
  })
  it('with neither, it says nothing rather than guess', () => expect(pairHostVeth(bridgeNode(), pod(), 4026532000)).toBeUndefined())
  it('a routed CNI: the /32 route names the veth', () => {
    const node: HostNetwork = {links: [veth('calia', 11, 2, 0, null), veth('calib', 12, 2, 1, null)], netnsNames: new Map(), netnsByInode: new Map(), routes: parseIpRouteJson(JSON.stringify([{dst: '10.88.0.3', dev: 'calib', scope: 'link'}]))}
    expect(pairHostVeth(node, pod(), null)?.name).toBe('calib')
  })
})
