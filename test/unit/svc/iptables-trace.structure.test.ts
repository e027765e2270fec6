import {describe, expect, it} from 'vitest'
import {parseIptablesSave} from '../../../src/parse/iptables.js'
import {traceIptables} from '../../../src/svc/iptables-trace.js'
import {renderAll, renderGraph, renderServices} from '../../../src/svc/render.js'
import type {SvcReport} from '../../../src/svc/correlate.js'
// @ts-expect-error plain JS generator shared with the benchmark
import {kubeProxyRestore} from '../../../bench/svc-gen.mjs'

describe('tracing by structure, not comments', () => {
  it('follows 1200 endpoints whose rules carry no comments (kube-proxy drops them above 1000)', () => {
    const endpoints = Array.from({length: 1200}, (_, i) => ({ip: `10.64.${i >> 8}.${i & 255}`, port: 8443}))
    const text = kubeProxyRestore([{namespace: 'big', name: 'fleet', portName: 'https', protocol: 'tcp', clusterIP: '10.96.7.7', port: 443, endpoints}], {comments: false})
    expect(text).not.toMatch(/-> 10\.64\./)
    const trace = traceIptables(parseIptablesSave(text))
    expect(trace.services).toHaveLength(1)
    const s = trace.services[0]
    expect(s.endpoints).toHaveLength(1200)
    expect(new Set(s.endpoints.map((e) => e.ip)).size).toBe(1200)
    const sum = s.endpoints.reduce((a, e) => a + e.probability, 0)
    expect(sum).toBeCloseTo(1, 6)
    // kube-proxy's 1/(N-n) rule probabilities give every endpoint the same share
    for (const e of s.endpoints) expect(e.probability).toBeCloseTo(1 / 1200, 8)
    expect(s.problems).toEqual([])
  })

  it('ignores a comment that lies about the endpoint', () => {
    const text = kubeProxyRestore([{namespace: 'a', name: 'b', portName: 'p', protocol: 'udp', clusterIP: '10.96.0.53', port: 53, endpoints: [{ip: '10.1.1.1', port: 53}]}])
      .replace('"a/b:p -> 10.1.1.1:53"', '"a/b:p -> 10.9.9.9:53"')
    const s = traceIptables(parseIptablesSave(text)).services[0]
    expect(s.endpoints.map((e) => `${e.ip}:${e.port}`)).toEqual(['10.1.1.1:53'])
    expect(s.protocol).toBe('udp')
  })
})

describe('svc output', () => {
  const text = kubeProxyRestore([
    {namespace: 'a', name: 'web', portName: 'http', protocol: 'tcp', clusterIP: '10.96.0.10', port: 80, endpoints: [{ip: '10.1.1.1', port: 8080}, {ip: '10.1.1.2', port: 8080}]},
    {namespace: 'a', name: 'gone', portName: 'http', protocol: 'tcp', clusterIP: '10.96.0.20', port: 80, endpoints: []},
  ], {hooks: true})
  const trace = traceIptables(parseIptablesSave(text))
  const report: SvcReport = {mode: trace.mode, source: 'test', masqueradeMark: trace.masqueradeMark, clusterCIDR: trace.clusterCIDR, services: trace.services, unresolved: [], problems: [], notes: [], partial: [], skipped: [], missingEntryChains: []}

  it('draws the path as dot and as mermaid', () => {
    const dot = renderGraph(report, 'dot')
    expect(dot).toMatch(/^digraph svc \{/)
    for (const ep of ['10.1.1.1:8080', '10.1.1.2:8080']) expect(dot).toContain(ep)
    expect(dot).toMatch(/-> n\w*KUBE_SVC_\w+/)
    expect(dot).toContain('REJECT (KUBE-SERVICES)')
    expect(dot.trim().endsWith('}')).toBe(true)
    const mermaid = renderGraph(report, 'mermaid')
    expect(mermaid).toMatch(/^flowchart LR/)
    expect(mermaid).toContain('|"DNAT 50.00%"|')
  })

  it('lists one row per service port, and one block per service', () => {
    const all = renderAll(report, false)
    expect(all.split('\n')[0]).toMatch(/^SERVICE\s+PROTO\s+FRONTENDS\s+ENDPOINTS/)
    expect(all).toMatch(/a\/gone:http\s+tcp\s+10\.96\.0\.20:80\s+0\s+REJECT\s+1/)
    expect(renderAll(report, true)).toMatch(/a\/gone:http\s+tcp\s+10\.96\.0\.20:80\s+0\s+0\s+0\s+REJECT\s+/)
    const one = renderServices({...report, services: [trace.services.find((s) => s.service === 'a/web:http')!]}, false)
    expect(one).toContain('KUBE-SEP-')
    expect(one).toMatch(/10\.1\.1\.1:8080\s+50\.00% \(rule 0\.5\)/)
  })
})

describe('IPv6 (ip6tables-save)', () => {
  it('traces IPv6 frontends and bracketed DNAT targets', () => {
    const text = kubeProxyRestore([{namespace: 'v6', name: 'dns', portName: 'dns', protocol: 'udp', clusterIP: 'fd00:10:96::a', port: 53,
      endpoints: [{ip: 'fd00:10:244:1::5', port: 53}, {ip: 'fd00:10:244:2::7', port: 53}]}], {clusterCIDR: 'fd00:10:244::/56'})
      .replace(/--to-destination (fd00:[0-9a-f:]+):(\d+)/g, '--to-destination [$1]:$2')
    const trace = traceIptables(parseIptablesSave(text))
    const s = trace.services[0]
    expect(s.frontends).toMatchObject([{kind: 'clusterIP', ip: 'fd00:10:96::a', port: 53}])
    expect(s.endpoints.map((e) => `[${e.ip}]:${e.port}`)).toEqual(['[fd00:10:244:1::5]:53', '[fd00:10:244:2::7]:53'])
    expect(s.endpoints.map((e) => e.probability)).toEqual([0.5, 0.5])
    expect(trace.clusterCIDR).toBe('fd00:10:244::/56')
  })
})
