import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {kernelLogTime, parseKernelTrace, parseNftTrace, parseXtablesTrace, ruleHandles} from '../../../src/parse/packet-trace.js'

const fixture = (name: string) => readFileSync(join(__dirname, '../../fixtures/probe', name), 'utf8')

describe('nft -a monitor trace', () => {
  const events = parseNftTrace(fixture('nft-monitor-trace-iptables-nft.txt'))

  it('reads every trace line of one packet, skipping ruleset events', () => {
    expect(new Set(events.map((e) => e.id))).toEqual(new Set(['c6e46d07']))
    expect(events.filter((e) => e.kind === 'packet').map((e) => `${e.table} ${e.chain}`)).toEqual(['ndtrace pre', 'nat PREROUTING', 'filter FORWARD', 'nat POSTROUTING'])
  })

  it('reads the packet: addresses and ports as SRC/DST/SPT/DPT', () => {
    expect(events[0].fields).toMatchObject({SRC: '172.31.0.2', DST: '10.96.0.10', SPT: '40005', DPT: '80', PROTO: 'TCP', IN: 'n0'})
  })

  it('reads rules: handle, verdict, and the rule without its counters', () => {
    const rules = events.filter((e) => e.kind === 'rule' && e.table === 'nat')
    expect(rules.map((e) => [e.chain, e.handle, e.verdict])).toEqual([
      ['PREROUTING', 15, 'jump KUBE-SERVICES'],
      ['KUBE-SERVICES', 13, 'jump KUBE-SVC-XRY76EGRC3BSCIIJ'],
      ['KUBE-SVC-XRY76EGRC3BSCIIJ', 22, 'jump KUBE-MARK-MASQ'],
      ['KUBE-MARK-MASQ', 18, 'continue'],
      ['KUBE-SVC-XRY76EGRC3BSCIIJ', 29, 'jump KUBE-SEP-VEOJDPJKVSVSZUXL'],
      ['KUBE-SEP-VEOJDPJKVSVSZUXL', 31, 'accept'],
      ['POSTROUTING', 17, 'jump KUBE-POSTROUTING'],
      ['KUBE-POSTROUTING', 20, 'continue'],
      ['KUBE-POSTROUTING', 21, 'accept'],
    ])
    expect(rules[5].rule).toBe('meta l4proto tcp dnat to 10.254.3.2:8080')
  })

  it('reads a rule the monitor did not know by its handle, and policies', () => {
    expect(events.find((e) => e.table === 'ndtrace' && e.kind === 'rule')).toMatchObject({handle: 2, rule: null, verdict: 'continue'})
    expect(events.filter((e) => e.kind === 'policy').map((e) => `${e.table} ${e.chain} ${e.verdict}`)).toEqual(['ndtrace pre accept', 'filter FORWARD accept'])
  })
})

describe('xtables-monitor --trace', () => {
  const events = parseXtablesTrace(fixture('xtables-monitor-trace.txt'))

  it('reads packets (SPORT/DPORT as SPT/DPT) and rules in iptables syntax', () => {
    expect(events[0]).toMatchObject({kind: 'packet', id: 'd44d8ada', family: 'ip', fields: {SRC: '172.31.0.2', DST: '10.96.0.10', SPT: '40006', DPT: '80'}})
    const svc = events.find((e) => e.chain === 'KUBE-SVC-XRY76EGRC3BSCIIJ' && e.verdict?.includes('KUBE-SEP'))
    expect(svc).toMatchObject({table: 'nat', kind: 'rule', handle: 0x17, verdict: 'jump KUBE-SEP-MBDLYWHOQR6P3SKK'})
    expect(svc?.rule).toBe('-A KUBE-SVC-XRY76EGRC3BSCIIJ -m comment --comment "demo/web:http -> 10.254.1.2:8080" -m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-MBDLYWHOQR6P3SKK')
  })

  it('reads continue, accept and policy verdicts', () => {
    expect(events.filter((e) => e.kind !== 'packet').map((e) => e.verdict)).toEqual([
      'jump KUBE-SERVICES', 'jump KUBE-SVC-XRY76EGRC3BSCIIJ', 'jump KUBE-MARK-MASQ', 'continue', 'jump KUBE-SEP-MBDLYWHOQR6P3SKK', 'accept',
      'jump KUBE-SERVICES', 'jump KUBE-EXTERNAL-SERVICES', 'accept',
      'jump KUBE-POSTROUTING', 'continue', 'accept',
    ])
    expect(events.find((e) => e.kind === 'policy')).toMatchObject({table: 'filter', chain: 'FORWARD', verdict: 'accept', rule: null})
  })
})

describe('kernel log of the legacy TRACE target', () => {
  it('reads syslog lines: table, chain, kind and rule number; the packet keys the trace (kubernetes#22698)', () => {
    const events = parseKernelTrace(fixture('kernel-trace-k8s-22698.txt'))
    expect(events.map((e) => [e.table, e.chain, e.kind, e.ruleNumber])).toEqual([
      ['nat', 'KUBE-SERVICES', 'rule', 21], ['nat', 'KUBE-MARK-MASQ', 'rule', 1], ['nat', 'KUBE-MARK-MASQ', 'return', 2],
    ])
    expect(new Set(events.map((e) => e.id))).toEqual(new Set(['151.80.24.11:56878']))
    expect(events[0].fields).toMatchObject({SRC: '151.80.24.11', DST: '164.132.217.81', SPT: '56878', DPT: '80', PROTO: 'TCP', IN: 'eth1'})
    expect(events[2].verdict).toBe('return')
  })

  it('reads dmesg lines and their time since boot (captured here)', () => {
    const text = fixture('kernel-trace-raw-output.txt')
    const events = parseKernelTrace(text)
    expect(events.map((e) => `${e.table}:${e.chain}:${e.kind}:${e.ruleNumber} ${e.fields?.SPT}`)).toEqual([
      'raw:OUTPUT:policy:2 40002', 'raw:PREROUTING:policy:1 40002', 'raw:OUTPUT:policy:1 40003', 'raw:PREROUTING:policy:1 40003',
    ])
    expect(kernelLogTime(text.split('\n')[0])).toBe(4648.720461)
    expect(kernelLogTime('Mar  9 02:07:11 node8 kernel: TRACE: x')).toBeNull()
  })
})

describe('nft -a list chain', () => {
  it('gives the rule handles in rule order (the header and nft\'s warning carry none)', () => {
    expect(ruleHandles(fixture('nft-a-list-chain-iptables-nft.txt'))).toEqual([22, 23, 26, 29])
  })

  it('skips a base chain\'s type line', () => {
    expect(ruleHandles('table ip kube-proxy { # handle 7\n\tchain nat-prerouting { # handle 20\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n\t\tjump services # handle 45\n\t}\n}\n')).toEqual([45])
  })
})

describe('xtables-monitor numbered verdicts', () => {
  it('reads NFT_RETURN, printed as its number (a RETURN rule of KUBE-POSTROUTING, seen here)', () => {
    const [event] = parseXtablesTrace('TRACE: 2 0d3e2a1f nat:KUBE-POSTROUTING:rule:0x9:0xfffffffb  -4 -t nat -A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN')
    expect(event).toMatchObject({kind: 'rule', table: 'nat', chain: 'KUBE-POSTROUTING', handle: 9, verdict: 'return'})
  })
})
