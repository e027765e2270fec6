import {describe, expect, it} from 'vitest'
import {capabilityMask, capabilityNames} from '../../../src/compare/capabilities.js'
import {DEFAULT_TERMINATION_MESSAGE_PATH, SERVICE_ACCOUNT_MOUNT, effectiveSecurity, kubeletMounts, noNewPrivs, seccompProfile} from '../../../src/compare/kubelet-rules.js'
import {describeCapabilities, describePaths} from '../../../src/compare/layers.js'
import {CONTAINERD_CAPABILITIES, CRIO_CAPABILITIES, containerdRestrictsOomScoreAdj, kubeletSeccompDefault, runtimeDefaultMounts} from '../../../src/compare/runtime-defaults.js'
import {parsePodManifest} from '../../../src/sandbox/manifest.js'

const pod = (spec: string) => parsePodManifest(`kind: Pod\nmetadata: {name: p}\nspec:\n${spec}`, 'p.yaml', {anyVolume: true})

describe('manifest fields compare reads', () => {
  it('reads the pod and container securityContext, terminationMessagePath and automount', () => {
    const p = pod(`  automountServiceAccountToken: false
  securityContext: {runAsUser: 1000, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: a
    terminationMessagePath: /tmp/msg
    securityContext:
      allowPrivilegeEscalation: false
      privileged: false
      readOnlyRootFilesystem: true
      capabilities: {add: [NET_ADMIN], drop: [ALL]}
      seccompProfile: {type: Unconfined}
      procMount: Unmasked
      runAsUser: 2000
`)
    expect(p.security).toEqual({runAsUser: 1000, runAsGroup: null, seccompProfile: 'RuntimeDefault'})
    expect(p.automountServiceAccountToken).toBe(false)
    expect(p.containers[0]).toMatchObject({
      runAsUser: 2000,
      terminationMessagePath: '/tmp/msg',
      security: {allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, capabilities: {add: ['NET_ADMIN'], drop: ['ALL']}, seccompProfile: 'Unconfined', procMount: 'Unmasked'},
    })
  })

  it('keeps every volume kind for compare, and names a bad seccomp type with its place', () => {
    const p = pod(`  volumes:
  - {name: token, projected: {sources: []}}
  - {name: conf, configMap: {name: c}}
  - {name: data, persistentVolumeClaim: {claimName: d}}
  containers: [{name: a}]
`)
    expect(p.volumes.map((v) => v.source)).toEqual([{kind: 'apiData', type: 'projected'}, {kind: 'apiData', type: 'configMap'}, {kind: 'other', type: 'persistentVolumeClaim'}])
    expect(() => pod('  securityContext: {seccompProfile: {type: Strict}}\n  containers: [{name: a}]\n'))
      .toThrow('p.yaml:4:44: spec.securityContext.seccompProfile.type: "Strict" is not RuntimeDefault, Unconfined or Localhost')
  })
})

describe('the kubelet rules', () => {
  const base = pod('  containers: [{name: a}]\n')
  it('seccomp: the container over the pod, then --seccomp-default, else Unconfined', () => {
    const off = {value: false, why: 'the kubelet runs without --seccomp-default'}
    const on = {value: true, why: 'the kubelet runs with --seccomp-default'}
    expect(seccompProfile(base, base.containers[0], off)).toEqual({profile: 'Unconfined', why: 'no seccompProfile; the kubelet runs without --seccomp-default'})
    expect(seccompProfile(base, base.containers[0], on)).toEqual({profile: 'RuntimeDefault', why: 'no seccompProfile; the kubelet runs with --seccomp-default'})
    const p = pod('  securityContext: {seccompProfile: {type: RuntimeDefault}}\n  containers: [{name: a}, {name: b, securityContext: {seccompProfile: {type: Unconfined}}}]\n')
    expect(seccompProfile(p, p.containers[0], off)).toMatchObject({profile: 'RuntimeDefault', why: "the pod's seccompProfile is RuntimeDefault"})
    expect(seccompProfile(p, p.containers[1], on)).toMatchObject({profile: 'Unconfined', why: "the container's seccompProfile is Unconfined"})
  })

  it('no_new_privs only for allowPrivilegeEscalation: false', () => {
    const p = pod('  containers: [{name: a, securityContext: {allowPrivilegeEscalation: false}}, {name: b, securityContext: {allowPrivilegeEscalation: true}}, {name: c}]\n')
    expect(p.containers.map((c) => noNewPrivs(effectiveSecurity(p, c, {value: false, why: ''})).value)).toEqual([true, false, false])
  })

  it('runAsUser: the container over the pod', () => {
    const p = pod('  securityContext: {runAsUser: 1000}\n  containers: [{name: a}, {name: b, securityContext: {runAsUser: 0}}]\n')
    expect(p.containers.map((c) => effectiveSecurity(p, c, {value: false, why: ''}).runAsUser)).toEqual([1000, 0])
  })

  it('mounts: volumes (API data read-only), /etc/hosts, the termination file, the token unless opted out', () => {
    const p = pod(`  volumes: [{name: cache, emptyDir: {}}, {name: conf, configMap: {name: c}}]
  containers:
  - name: a
    volumeMounts: [{name: cache, mountPath: /cache}, {name: conf, mountPath: /conf}]
`)
    expect(kubeletMounts(p, p.containers[0]).map(({destination, mode, optional}) => [destination, mode, Boolean(optional)])).toEqual([
      ['/cache', 'rw', false], ['/conf', 'ro', false], ['/etc/hosts', 'rw', false], [DEFAULT_TERMINATION_MESSAGE_PATH, 'rw', false], [SERVICE_ACCOUNT_MOUNT, 'ro', true],
    ])
    const off = pod('  automountServiceAccountToken: false\n  containers: [{name: a, terminationMessagePath: /tmp/msg}]\n')
    expect(kubeletMounts(off, off.containers[0]).map((m) => m.destination)).toEqual(['/etc/hosts', '/tmp/msg'])
    // a manifest from the API server lists the token itself: then it is required
    const listed = pod(`  volumes: [{name: kube-api-access-x1y2z, projected: {sources: []}}]
  containers: [{name: a, volumeMounts: [{name: kube-api-access-x1y2z, mountPath: ${SERVICE_ACCOUNT_MOUNT}, readOnly: true}]}]
`)
    expect(kubeletMounts(listed, listed.containers[0]).find((m) => m.destination === SERVICE_ACCOUNT_MOUNT)).not.toHaveProperty('optional')
  })
})

describe('runtime defaults', () => {
  it('containerd and CRI-O default mounts; /sys and the cgroup tree writable only when privileged', () => {
    expect(runtimeDefaultMounts('containerd', {privileged: false, readOnlyRootFilesystem: false}).map((m) => `${m.destination}:${m.mode}`)).toEqual([
      '/proc:rw', '/dev:rw', '/dev/pts:rw', '/dev/mqueue:rw', '/dev/shm:rw', '/sys:ro', '/sys/fs/cgroup:ro', '/etc/hostname:rw', '/etc/resolv.conf:rw',
    ])
    const crio = runtimeDefaultMounts('cri-o', {privileged: true, readOnlyRootFilesystem: true})
    expect(crio.filter((m) => ['/sys', '/sys/fs/cgroup', '/etc/hostname', '/run/.containerenv'].includes(m.destination)).map((m) => `${m.destination}:${m.mode}`))
      .toEqual(['/sys:rw', '/sys/fs/cgroup:rw', '/etc/hostname:ro', '/run/.containerenv:ro'])
  })

  it('reads restrict_oom_score_adj and --seccomp-default from the configs', () => {
    expect(containerdRestrictsOomScoreAdj('[plugins."io.containerd.grpc.v1.cri"]\n  restrict_oom_score_adj = true\n')).toBe(true)
    expect(containerdRestrictsOomScoreAdj('  # restrict_oom_score_adj = true\n  restrict_oom_score_adj = false\n')).toBe(false)
    expect(kubeletSeccompDefault(['/usr/bin/kubelet', '--seccomp-default'], undefined)).toBe(true)
    expect(kubeletSeccompDefault(['/usr/bin/kubelet', '--config=/var/lib/kubelet/config.yaml'], 'kind: KubeletConfiguration\nseccompDefault: true\n')).toBe(true)
    expect(kubeletSeccompDefault(['/usr/bin/kubelet'], 'kind: KubeletConfiguration\n')).toBeUndefined()
  })
})

describe('capability and path words', () => {
  const all = Object.keys({...Object.fromEntries(CONTAINERD_CAPABILITIES.map((c) => [c, 1])), sys_admin: 1, net_admin: 1})
  it('describes sets relative to the runtime default', () => {
    expect(describeCapabilities(new Set(capabilityNames(capabilityMask(CONTAINERD_CAPABILITIES))), CONTAINERD_CAPABILITIES, all)).toBe('default')
    expect(capabilityMask(CONTAINERD_CAPABILITIES)).toBe('00000000a80425fb')
    expect(describeCapabilities(new Set([...CONTAINERD_CAPABILITIES.filter((c) => c !== 'net_raw'), 'sys_admin']), CONTAINERD_CAPABILITIES, all)).toBe('default +sys_admin -net_raw')
    expect(describeCapabilities(new Set(['net_bind_service']), CONTAINERD_CAPABILITIES, all)).toBe('net_bind_service')
    expect(describeCapabilities(new Set(), CONTAINERD_CAPABILITIES, all)).toBe('none')
    expect(describeCapabilities(new Set(all), CONTAINERD_CAPABILITIES, all)).toBe('all')
    expect(describeCapabilities(new Set(CRIO_CAPABILITIES), CRIO_CAPABILITIES, all)).toBe('default')
  })

  it('describes masked paths: all required, none, or which are missing', () => {
    expect(describePaths(new Set(['/a', '/b', '/extra']), ['/a', '/b'])).toBe('default')
    expect(describePaths(new Set(), ['/a', '/b'])).toBe('none')
    expect(describePaths(new Set(['/a']), ['/a', '/b'])).toBe('missing /b')
  })
})
