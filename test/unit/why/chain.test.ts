import {describe, expect, it} from 'vitest'
import {runChain} from '../../../src/why/chain.js'
import {judgeProbe} from '../../../src/why/probe.js'
import {exitCodeOf, renderWhy} from '../../../src/why/render.js'
import {type Link, broken, ok} from '../../../src/why/types.js'

const link = (name: string, check: Link<object>['check']): Link<object> => ({name, check})

describe('a chain of links', () => {
  it('runs every link and makes the first BROKEN one the verdict', async () => {
    const seen: string[] = []
    const report = await runChain('dns lookups from pod default/client', [
      link('a', async () => (seen.push('a'), ok('holds', ['read a']))),
      link('b', async () => (seen.push('b'), broken('b is cut', 'join b', ['read b']))),
      link('c', async () => (seen.push('c'), broken('c too', 'join c'))),
    ], {})
    expect(seen).toEqual(['a', 'b', 'c'])
    expect(report.verdict).toEqual({link: 'b', reason: 'b is cut', fix: 'join b'})
    expect(report.links.map((l) => l.status)).toEqual(['ok', 'BROKEN', 'BROKEN'])
    expect(exitCodeOf(report)).toBe(1)
  })

  it('judges a link that throws unknown, with the reason, and goes on', async () => {
    const report = await runChain('pod x', [link('a', async () => {
      throw new Error('EIO reading /proc/1/net/udp\nstack')
    }), link('b', async () => ok('fine'))], {})
    expect(report.links[0]).toEqual({name: 'a', status: 'unknown', evidence: [], detail: 'could not be read: EIO reading /proc/1/net/udp', fix: null})
    expect(report.verdict).toEqual({link: null, reason: 'no link is broken (some could not be judged: see unknown)', fix: null})
    expect(exitCodeOf(report)).toBe(0)
  })

  it('prints escaped text, evidence and fix under a broken link', async () => {
    const report = await runChain('pod x', [link('resolv.conf', async () => broken('bad \u001b[2J name', 'fix it', ['nameserver \u001b]0;x'])), link('b', async () => ok('fine', ['hidden unless wide']))], {})
    const text = renderWhy(report, false)
    expect(text).not.toContain('\u001b[2J')
    expect(text).toContain('bad \\x1b[2J name')
    expect(text).toContain('· nameserver \\x1b]0;x')
    expect(text).toContain('fix: fix it')
    expect(text).not.toContain('hidden unless wide')
    expect(renderWhy(report, true)).toContain('hidden unless wide')
  })
})

describe('--probe observations', () => {
  it('holds when a traced endpoint answered, breaks on silence or a stranger', () => {
    expect(judgeProbe({answered: true, endpoint: '10.88.0.3', detail: 'A web.nodedoc.test'}, ['10.88.0.3']).status).toBe('ok')
    expect(judgeProbe({answered: false, endpoint: null, detail: 'A web.nodedoc.test'}, ['10.88.0.3']).status).toBe('BROKEN')
    expect(judgeProbe({answered: true, endpoint: '10.88.0.9', detail: 'A web.nodedoc.test'}, ['10.88.0.3']).detail).toMatch(/10\.88\.0\.9, which is not a traced endpoint/)
  })
})
