import {describe, expect, it} from 'vitest'
import {mergeReports} from '../../../src/report/merge.js'
import {nodeFromFileName} from '../../../src/report/read.js'
import {recognise} from '../../../src/report/shapes.js'
import {reportTable} from '../../../src/report/render.js'

const doctor = (node: string, failing: string[]) => ({
  node,
  checks: [
    {id: 'cgroup-driver', status: failing.includes('cgroup-driver') ? 'FAIL' : 'PASS', message: failing.includes('cgroup-driver') ? 'kubelet says systemd, runtime uses cgroupfs' : null},
    {id: 'ip-forward', status: failing.includes('ip-forward') ? 'FAIL' : 'PASS', message: failing.includes('ip-forward') ? 'net.ipv4.ip_forward = 0' : null},
    {id: 'conntrack-table', status: 'WARN', message: '91% full'},
  ],
})

const endpoint = (ip: string, extra: Record<string, unknown> = {}) => ({ip, port: 53, probability: 0.5, location: 'remote', route: {dev: 'eth0', via: null}, problems: [], ...extra})
const svc = (endpoints: unknown[], verdict = 'DNAT') => ({
  mode: 'iptables', source: 'iptables-nft-save', services: [{service: 'kube-system/kube-dns:dns', protocol: 'udp', frontends: [{ip: '10.96.0.10', port: 53}], endpoints, verdict, problems: []}], unresolved: [], problems: [], notes: [],
})

function input(source: string, doc: unknown) {
  const found = recognise(doc)
  if (!found.ok) throw new Error(found.reason)
  return {source, node: found.doc.node ?? nodeFromFileName(source), doc: found.doc}
}

describe('recognise', () => {
  it('reads doctor reports, whatever the status word', () => {
    const found = recognise({hostname: 'n1', checks: [{name: 'x', result: 'ok'}, {check: 'y', status: 'failed', detail: 'why'}]})
    expect(found).toEqual({ok: true, doc: {kind: 'doctor', node: 'n1', checks: [{name: 'x', status: 'PASS', message: null}, {name: 'y', status: 'FAIL', message: 'why'}]}})
  })

  it('reads svc reports and ps rows, and says why anything else is not one', () => {
    expect(recognise(svc([endpoint('10.244.1.5')]))).toMatchObject({ok: true, doc: {kind: 'svc', services: [{service: 'kube-system/kube-dns:dns', endpoints: [{ip: '10.244.1.5', port: 53, problems: []}]}]}})
    expect(recognise([{pid: 1, pod: null}, {pid: 7, pod: {namespace: 'default', name: 'web', uid: 'u1'}}])).toEqual({ok: true, doc: {kind: 'pods', node: null, pods: [{namespace: 'default', name: 'web', uid: 'u1'}]}})
    expect(recognise({hello: 1})).toEqual({ok: false, reason: 'not doctor, svc, pod or ps JSON (an object with keys hello)'})
    expect(recognise([{checks: 'nope'}]).ok).toBe(false)
  })
})

describe('nodeFromFileName', () => {
  it('takes the node from the file or its folder', () => {
    expect(nodeFromFileName('/r/node-a.json')).toBe('node-a')
    expect(nodeFromFileName('/r/node-a.doctor.json')).toBe('node-a')
    expect(nodeFromFileName('/r/node-b/svc.json')).toBe('node-b')
  })
})

describe('mergeReports', () => {
  const merged = mergeReports([
    input('/r/a.json', doctor('node-a', [])),
    input('/r/b.json', doctor('node-b', ['ip-forward'])),
    input('/r/c.json', doctor('node-c', ['ip-forward', 'cgroup-driver'])),
    input('/r/node-a.svc.json', svc([endpoint('10.244.1.5'), endpoint('10.244.2.7')])),
    input('/r/node-b.svc.json', svc([endpoint('10.244.1.5'), endpoint('10.244.2.7', {route: null})])),
    input('/r/node-c.svc.json', svc([], 'REJECT (filter KUBE-SERVICES "kube-system/kube-dns:dns has no endpoints")')),
  ])

  it('lists which nodes fail which checks, worst first', () => {
    expect(merged.checks.map((c) => [c.check, c.fail, c.warn, c.pass])).toEqual([
      ['ip-forward', ['node-b', 'node-c'], [], ['node-a']],
      ['cgroup-driver', ['node-c'], [], ['node-a', 'node-b']],
      ['conntrack-table', [], ['node-a', 'node-b', 'node-c'], []],
    ])
    expect(merged.checks[0].messages).toEqual({'node-b': 'net.ipv4.ip_forward = 0', 'node-c': 'net.ipv4.ip_forward = 0'})
  })

  it('lists which nodes cannot reach which endpoints, and why', () => {
    expect(merged.endpoints).toEqual([
      {service: 'kube-system/kube-dns:dns', endpoint: '10.244.1.5:53', reachFrom: ['node-a', 'node-b'], cannotReach: {'node-c': 'REJECT (filter KUBE-SERVICES "kube-system/kube-dns:dns has no endpoints")'}},
      {service: 'kube-system/kube-dns:dns', endpoint: '10.244.2.7:53', reachFrom: ['node-a'], cannotReach: {'node-b': 'no route to 10.244.2.7', 'node-c': 'REJECT (filter KUBE-SERVICES "kube-system/kube-dns:dns has no endpoints")'}},
    ])
    expect(merged.nodes.map((n) => [n.node, n.checks, n.services])).toEqual([
      ['node-a', {fail: 0, warn: 1, pass: 2}, 1],
      ['node-b', {fail: 1, warn: 1, pass: 1}, 1],
      ['node-c', {fail: 2, warn: 1, pass: 0}, 1],
    ])
  })

  it('renders one cluster table', () => {
    const text = reportTable(merged, false)
    expect(text).toMatch(/^ip-forward\s+node-b, node-c\s+-\s+1$/m)
    expect(text).toMatch(/^kube-system\/kube-dns:dns\s+10\.244\.2\.7:53\s+1\s+node-b, node-c$/m)
  })
})
