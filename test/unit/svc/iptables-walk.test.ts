import {describe, expect, it} from 'vitest'
import {parseIptablesSave} from '../../../src/parse/iptables.js'
import {type Packet, TableWalker} from '../../../src/svc/iptables-walk.js'

const PACKET: Packet = {dst: '10.96.0.1', dport: 443, protocol: 'tcp', dstLocal: false}

function walker(rules: string): TableWalker {
  return new TableWalker(parseIptablesSave(`*nat\n${rules}\nCOMMIT\n`), 'nat')
}

describe('TableWalker', () => {
  it('returns from a jumped chain to the next rule; a goto returns to the caller\'s caller', () => {
    const w = walker([
      ':ROOT - [0:0]', ':J - [0:0]', ':G - [0:0]', ':INNER - [0:0]',
      '-A ROOT -j J',
      '-A ROOT -j DNAT --to-destination 10.0.0.1:443',
      '-A J -g G',
      '-A J -j DNAT --to-destination 10.0.0.2:443',
      '-A G -j RETURN',
    ].join('\n'))
    const r = w.walk('ROOT', PACKET)
    // J goes to G, G returns: back to ROOT (not to J's second rule)
    expect(r.outcomes.map((o) => o.dnat?.ip)).toEqual(['10.0.0.1'])
    expect(r.outcomes[0].probability).toBe(1)
    expect(r.fallthrough).toBe(0)
  })

  it('splits on statistic, keeps conditions apart, and lets the rest fall through', () => {
    const w = walker([
      ':ROOT - [0:0]',
      '-A ROOT -s 192.168.0.0/16 -j DNAT --to-destination 10.0.0.9:443',
      '-A ROOT -m statistic --mode random --probability 0.25 -j DNAT --to-destination 10.0.0.1:443',
      '-A ROOT -m statistic --mode random --probability 0.5 -j DNAT --to-destination 10.0.0.2:443',
      '-A ROOT -d 10.96.0.2/32 -j DNAT --to-destination 10.0.0.3:443',
    ].join('\n'))
    const r = w.walk('ROOT', PACKET)
    const by = Object.fromEntries(r.outcomes.map((o) => [o.dnat!.ip, o]))
    expect(by['10.0.0.9'].conditions).toEqual(['from 192.168.0.0/16'])
    expect(by['10.0.0.1'].probability).toBeCloseTo(0.25, 12)
    expect(by['10.0.0.2'].probability).toBeCloseTo(0.375, 12)
    expect(by['10.0.0.3']).toBeUndefined()
    expect(r.fallthrough).toBeCloseTo(0.375, 12)
  })

  it('matches destination, port and protocol, and skips what cannot match', () => {
    const w = walker([
      ':ROOT - [0:0]',
      '-A ROOT -p udp -j DNAT --to-destination 10.0.0.1:53',
      '-A ROOT -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.0.0.2:80',
      '-A ROOT ! -d 10.96.0.0/16 -j DNAT --to-destination 10.0.0.3:443',
      '-A ROOT -p tcp -m multiport --dports 80,443 -d 10.96.0.0/12 -j DNAT --to-destination 10.0.0.4:443',
    ].join('\n'))
    expect(w.walk('ROOT', PACKET).outcomes.map((o) => o.dnat?.ip)).toEqual(['10.0.0.4'])
  })

  it('names jumps to missing chains and loops instead of failing', () => {
    const w = walker([':A - [0:0]', ':B - [0:0]', '-A A -j B', '-A B -j A', '-A B -j KUBE-SVC-GONE'].join('\n'))
    const r = w.walk('A', PACKET)
    expect(r.problems.some((p) => p.includes('loops back'))).toBe(true)
    expect(r.problems.some((p) => p.includes('KUBE-SVC-GONE') && p.includes('not in the rules'))).toBe(true)
    expect(r.outcomes.some((o) => o.target === 'DANGLING')).toBe(true)
  })

  it('treats a NodePort packet as going to a local address', () => {
    const w = walker([
      ':ROOT - [0:0]', ':NP - [0:0]',
      '-A ROOT -d 10.96.0.1/32 -j DNAT --to-destination 10.0.0.1:443',
      '-A ROOT -m addrtype --dst-type LOCAL -j NP',
      '-A NP -p tcp -m tcp --dport 30443 -j DNAT --to-destination 10.0.0.2:443',
    ].join('\n'))
    const r = w.walk('ROOT', {dst: null, dport: 30443, protocol: 'tcp', dstLocal: true})
    expect(r.outcomes.map((o) => [o.dnat?.ip, o.probability, o.conditions])).toEqual([['10.0.0.2', 1, []]])
  })
})

describe('TableWalker on a rule set that branches a lot', () => {
  it('stops at its budget and says so instead of exploding', () => {
    // 8 levels, each with 8 conditional jumps to the next: 8^8 paths if followed blindly
    const lines: string[] = []
    for (let level = 0; level <= 8; level++) lines.push(`:L${level} - [0:0]`)
    for (let level = 0; level < 8; level++) for (let i = 0; i < 8; i++) lines.push(`-A L${level} -m mark --mark 0x${i}/0xff -j L${level + 1}`)
    lines.push('-A L8 -j DNAT --to-destination 10.0.0.1:443')
    const w = walker(lines.join('\n'))
    const started = Date.now()
    const r = w.walk('L0', PACKET)
    expect(Date.now() - started).toBeLessThan(20_000)
    expect(r.problems.some((p) => /stopped after \d+ rules/.test(p))).toBe(true)
    expect(r.outcomes.length).toBeGreaterThan(0)
  })
})
