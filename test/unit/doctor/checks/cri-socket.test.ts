import {describe, expect, it} from 'vitest'
import {criSocket} from '../../../../src/doctor/checks/cri-socket.js'

const sockets = (kind: string | null) => [{path: '/run/containerd/containerd.sock', kind}, {path: '/run/crio/crio.sock', kind: null}, {path: '/var/run/cri-dockerd.sock', kind: null}]

describe('cri-socket', () => {
  it('passes when a runtime answers', () => {
    expect(criSocket.evaluate({sockets: sockets('other'), answered: {runtimeName: 'containerd', runtimeVersion: '1.6.20~ds1'}, problems: []}))
      .toMatchObject({status: 'PASS', seen: 'containerd 1.6.20~ds1 answers on /run/containerd/containerd.sock'})
  })
  it('fails with no socket, and with a socket nobody answers on', () => {
    expect(criSocket.evaluate({sockets: sockets(null), answered: null, problems: []}).status).toBe('FAIL')
    expect(criSocket.evaluate({sockets: sockets('other'), answered: null, problems: ['connect ECONNREFUSED']})).toMatchObject({status: 'FAIL', seen: expect.stringContaining('ECONNREFUSED')})
  })
  it('skips the question on a snapshot', () => {
    expect(criSocket.evaluate({sockets: sockets('other'), answered: undefined, problems: []}).status).toBe('SKIP')
  })
})
