import {describe, expect, it} from 'vitest'
import {parseRuntimeConfig} from '../../../src/parse/oci-config.js'

const UID = '6f0f2a8e-3c1b-4a57-9d5e-0e7d6c2b1a90'
const ID = 'd4e8e05a546c86b6443f101966c618e47753ed01fa9929cae00d3b692f7a9f80'

describe('runtime configs', () => {
  it('containerd annotations', () => {
    const spec = parseRuntimeConfig(JSON.stringify({
      process: {args: ['sleep', '10000'], noNewPrivileges: true, capabilities: {effective: ['CAP_CHOWN']}, user: {uid: 0, gid: 0}, oomScoreAdj: 1000},
      annotations: {'io.kubernetes.cri.container-type': 'container', 'io.kubernetes.cri.sandbox-id': ID, 'io.kubernetes.cri.container-name': 'app', 'io.kubernetes.cri.sandbox-name': 'core-k8s', 'io.kubernetes.cri.sandbox-namespace': 'default', 'io.kubernetes.cri.sandbox-uid': UID},
      linux: {namespaces: [{type: 'pid'}, {type: 'network', path: '/proc/42/ns/net'}], resources: {memory: {limit: 209715200}, cpu: {shares: 102, quota: 50000, period: 100000}}, cgroupsPath: '/kubepods/burstable/podx/y'},
    }))
    expect(spec.meta).toEqual({sandbox: false, sandboxId: ID, containerName: 'app', podName: 'core-k8s', podNamespace: 'default', podUid: UID})
    expect(spec.namespaces).toEqual({pid: '', network: '/proc/42/ns/net'})
    expect(spec.resources).toEqual({memoryLimit: 209715200, cpuShares: 102, cpuQuota: 50000, cpuPeriod: 100000, pidsLimit: null})
    expect(spec).toMatchObject({noNewPrivileges: true, capabilities: ['CAP_CHOWN'], oomScoreAdj: 1000})
  })
  it('CRI-O annotations name the sandbox POD', () => {
    const spec = parseRuntimeConfig(JSON.stringify({annotations: {'io.kubernetes.cri-o.ContainerType': 'sandbox', 'io.kubernetes.pod.name': 'p', 'io.kubernetes.pod.namespace': 'n', 'io.kubernetes.pod.uid': UID}}))
    expect(spec.meta).toMatchObject({sandbox: true, containerName: 'POD', podName: 'p', podUid: UID})
  })
  it('docker config.v2.json labels', () => {
    const spec = parseRuntimeConfig(JSON.stringify({Args: ['x'], Config: {Labels: {'io.kubernetes.docker.type': 'podsandbox', 'io.kubernetes.pod.name': 'p'}}}))
    expect(spec.meta).toMatchObject({sandbox: true, podName: 'p'})
  })
})
