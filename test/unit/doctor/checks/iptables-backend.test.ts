import {readFileSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {countKubeLines, iptablesBackend} from '../../../../src/doctor/checks/iptables-backend.js'
import {CORPUS, HAVE_CORPUS} from '../../../helpers/corpus.js'

const corpus = join(CORPUS, 'real-iptables-save')

describe('iptables-backend', () => {
  it('fails when both backends hold KUBE- rules', () => {
    expect(iptablesBackend.evaluate({legacy: 12, nft: 340})).toMatchObject({status: 'FAIL', seen: 'KUBE- lines: legacy 12, nft 340'})
    expect(iptablesBackend.evaluate({legacy: 0, nft: 340}).status).toBe('PASS')
    expect(iptablesBackend.evaluate({legacy: null, nft: 5}).status).toBe('PASS')
    expect(iptablesBackend.evaluate({legacy: null, nft: null}).status).toBe('SKIP')
  })
  it('says it could not read a backend, never that it is not installed, and gives no verdict', () => {
    // what iptables 1.8.9 prints without CAP_NET_ADMIN
    const legacy = {error: 'Cannot initialize: Permission denied (you must be root)'}
    const nft = {error: 'Could not fetch rule set generation id: Permission denied (you must be root)'}
    expect(iptablesBackend.evaluate({legacy, nft})).toEqual({status: 'SKIP', seen: 'could not read the rules: iptables-legacy-save: Cannot initialize: Permission denied (you must be root); iptables-nft-save: Could not fetch rule set generation id: Permission denied (you must be root)'})
    // the half that was read is said too; the other may hold the rest of the KUBE- rules
    expect(iptablesBackend.evaluate({legacy, nft: 340})).toEqual({status: 'SKIP', seen: 'could not read the rules: iptables-legacy-save: Cannot initialize: Permission denied (you must be root); nft holds 340 KUBE- lines'})
    expect(iptablesBackend.evaluate({legacy: null, nft})).toEqual({status: 'SKIP', seen: 'could not read the rules: iptables-nft-save: Could not fetch rule set generation id: Permission denied (you must be root); iptables-legacy-save is not installed'})
  })
  it.skipIf(!HAVE_CORPUS)('counts KUBE- chains and rules in real iptables-save output', () => {
    const files = readdirSync(corpus).filter((n) => n.endsWith('.txt') && !n.includes('.source'))
    expect(files.length).toBeGreaterThan(0)
    for (const f of files) {
      const text = readFileSync(join(corpus, f), 'utf8')
      const expected = text.split('\n').filter((l) => l.startsWith(':KUBE-') || l.startsWith('-A KUBE-')).length
      expect(countKubeLines(text), f).toBe(expected)
    }
    expect(countKubeLines(':KUBE-SERVICES - [0:0]\n-A PREROUTING -j KUBE-SERVICES\n-A KUBE-SERVICES -j RETURN\n')).toBe(2)
  })
})
