// Mutations of every real capture (lines dropped, repeated, cut short, swapped, garbage put in): svc
// must always end with an answer or one clear line, never an exception, and its shares stay shares.
import {describe, expect, it} from 'vitest'
import {RulesReadError, buildSvcReport} from '../../../src/svc/correlate.js'
import {renderAll, renderGraph, renderServices} from '../../../src/svc/render.js'
import {captures, rulesOf} from './captures.js'

const MUTATIONS_PER_CAPTURE = 160
const GARBAGE = [
  '$ sudo iptables-save | grep KUBE', 'controlplane $ kubectl -n kube-system exec kube-proxy-x -- iptables-save', '....', '```', '# rules below',
  'Here is the output:', '-A', '-A KUBE-SVC-XXXXXXXXXXXXXXXX -j', '-A KUBE-SEP-XXXXXXXXXXXXXXXX -j DNAT --to-destination', ':KUBE-SVC-', '*nat', '*filter', 'COMMIT',
  '[0:0]', '[1:2] -A', '-N', '-X', '-F', '-P PREROUTING', '-I KUBE-SERVICES 99999 -j KUBE-SVC-AAAAAAAAAAAAAAAA', '-A KUBE-SERVICES -d 10.0.0.1/33 -p tcp --dport 99999 -j KUBE-SVC-B',
  '-A KUBE-SVC-B -m statistic --mode random --probability 7 -j KUBE-SVC-B', '-A KUBE-SVC-B -g KUBE-SERVICES', '-A X -m comment --comment "unclosed', 'table ip kube-proxy {', '}', 'chain service-ABCDEFGH-a/b/tcp/p {',
  'numgen random mod 0 vmap { 0 : goto x }', 'add rule ip kube-proxy service-ABCDEFGH-a/b/tcp/p', '\u001b[31mred\u001b[0m', '\u0000\u0007\u009b', 'elements = {', '{"nftables": [',
]

/** mulberry32: a small seeded generator, so a failure names the seed that made it. */
function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function mutate(text: string, rnd: () => number): string {
  const lines = text.split('\n')
  const pick = () => Math.floor(rnd() * lines.length)
  for (let n = 1 + Math.floor(rnd() * 3); n > 0; n--) {
    const i = pick()
    switch (Math.floor(rnd() * 5)) {
      case 0:
        lines.splice(i, 1)
        break
      case 1:
        lines.splice(pick(), 0, lines[i] ?? '')
        break
      case 2:
        lines[i] = (lines[i] ?? '').slice(0, Math.floor(rnd() * (lines[i]?.length ?? 0)))
        break
      case 3:
        lines.splice(i, 0, GARBAGE[Math.floor(rnd() * GARBAGE.length)])
        break
      default: {
        const j = pick()
        ;[lines[i], lines[j]] = [lines[j], lines[i]]
      }
    }
  }
  return lines.join('\n')
}

describe('fuzz: mutated real captures end with an answer or one clear line', () => {
  for (const c of captures()) {
    it(`${MUTATIONS_PER_CAPTURE} mutations of ${c.name}`, () => {
      let answers = 0
      let refusals = 0
      // plain checks in the loop (expect() per value would dominate the time), one expect at the end
      const failures: string[] = []
      for (let k = 0; k < MUTATIONS_PER_CAPTURE; k++) {
        const seed = (c.name.length * 7919 + k) >>> 0
        const text = mutate(c.text, random(seed))
        const where = `${c.name}, seed ${seed}`
        let report
        try {
          report = buildSvcReport(rulesOf({...c, text}), null, {})
        } catch (error) {
          if (!(error instanceof RulesReadError) || error.message.includes('\n')) failures.push(`${where}: ${(error as Error).stack}`)
          refusals++
          continue
        }
        answers++
        for (const s of report.services) {
          for (const f of s.frontends) if (!(f.dnatProbability >= 0 && f.dnatProbability + (f.unknownShare ?? 0) <= 1 + 1e-9)) failures.push(`${where}: ${s.service} frontend shares ${f.dnatProbability} + ${f.unknownShare}`)
          for (const e of s.endpoints) if (!(Number.isFinite(e.probability) && e.probability >= 0)) failures.push(`${where}: ${s.service} endpoint share ${e.probability}`)
        }
        // every view renders, and no control character reaches the terminal
        for (const out of [renderAll(report, false), renderServices(report, true), renderGraph(report, 'dot')]) if (/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(out)) failures.push(`${where}: control character in the output`)
      }
      expect(failures).toEqual([])
      expect(answers + refusals).toBe(MUTATIONS_PER_CAPTURE)
      expect(answers, `${c.name}: most mutations still hold rules`).toBeGreaterThan(MUTATIONS_PER_CAPTURE / 2)
    }, 60_000)
  }
})
