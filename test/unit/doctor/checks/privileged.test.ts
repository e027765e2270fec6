import {describe, expect, it} from 'vitest'
import {holdsAll, privileged} from '../../../../src/doctor/checks/privileged.js'

const pod = '7d4424e6-bb13-42f4-a47a-45a4828bf54d'

describe('privileged', () => {
  it('compares capability masks bit by bit', () => {
    expect(holdsAll('000001ffffffffff', '000001ffffffffff')).toBe(true)
    expect(holdsAll('000001ffffffffff', '000001fffeffffff')).toBe(true)
    // the default runtime set (CHOWN, DAC_OVERRIDE, ... NET_BIND_SERVICE, KILL ...)
    expect(holdsAll('00000000a80425fb', '000001ffffffffff')).toBe(false)
    expect(holdsAll('0000000000000000', '0000000000000000')).toBe(false)
  })
  it('warns once per container holding every capability', () => {
    const v = privileged.evaluate({fullMask: '000001ffffffffff', processes: [
      {pid: 10, comm: 'calico-node', capEff: '000001ffffffffff', podUid: pod, containerId: 'a'.repeat(64)},
      {pid: 11, comm: 'bird', capEff: '000001ffffffffff', podUid: pod, containerId: 'a'.repeat(64)},
      {pid: 12, comm: 'nginx', capEff: '00000000a80425fb', podUid: 'other', containerId: 'b'.repeat(64)},
    ]})
    expect(v).toMatchObject({status: 'WARN', seen: `1 container with every capability: pod ${pod} container aaaaaaaaaaaa (calico-node, PID 10)`})
    expect(v.items).toHaveLength(2)
  })
  it('passes for default capabilities', () => {
    expect(privileged.evaluate({fullMask: '000001ffffffffff', processes: [{pid: 12, comm: 'nginx', capEff: '00000000a80425fb', podUid: pod, containerId: null}]}).status).toBe('PASS')
  })
})
