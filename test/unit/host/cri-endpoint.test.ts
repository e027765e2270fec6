import {describe, expect, it} from 'vitest'
import {DEFAULT_RUNTIME_ENDPOINTS, EndpointError, endpointOf, runtimeOfEndpoint, socketPathOf} from '../../../src/host/cri-endpoint.js'

describe('runtime endpoints', () => {
  it('tries containerd, CRI-O, then cri-dockerd, as crictl does', () => {
    expect(DEFAULT_RUNTIME_ENDPOINTS.map(runtimeOfEndpoint)).toEqual(['containerd', 'cri-o', 'docker'])
  })

  it('reads unix://, unix: and bare socket paths', () => {
    expect(socketPathOf('unix:///run/containerd/containerd.sock')).toBe('/run/containerd/containerd.sock')
    expect(socketPathOf('unix:/run/crio/crio.sock')).toBe('/run/crio/crio.sock')
    expect(socketPathOf(' /var/run/cri-dockerd.sock ')).toBe('/var/run/cri-dockerd.sock')
    expect(endpointOf('/run/crio/crio.sock')).toBe('unix:///run/crio/crio.sock')
  })

  it('refuses network endpoints with a one-line reason', () => {
    expect(() => socketPathOf('tcp://10.0.0.1:1234')).toThrow(EndpointError)
    expect(() => socketPathOf('tcp://10.0.0.1:1234')).toThrow(/only unix sockets/)
  })
})
