import {describe, expect, it} from 'vitest'
import {chainRole, isPerServicePortChain, servicePortHash} from '../../../src/parse/kube-chains.js'

describe('chainRole', () => {
  it('names what kube-proxy made', () => {
    expect(chainRole('KUBE-SERVICES')).toBe('services')
    expect(chainRole('KUBE-IPTABLES-HINT')).toBe('canary')
    expect(chainRole('KUBE-SVC-TCOU7JCQXEZGVUNU')).toBe('service-port')
    expect(chainRole('KUBE-SEP-IT2ZTR26TO4XFPTO')).toBe('endpoint')
    expect(servicePortHash('KUBE-EXT-TCOU7JCQXEZGVUNU')).toBe('TCOU7JCQXEZGVUNU')
  })

  // chain names are anyone's: `iptables -N constructor` is a valid chain, and not kube-proxy's
  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf', 'DOCKER', 'KUBE-SVC-', 'KUBE-SVC-lower'])('%s is no kube-proxy chain', (name) => {
    expect(chainRole(name)).toBeNull()
    expect(isPerServicePortChain(name)).toBe(false)
  })
})
