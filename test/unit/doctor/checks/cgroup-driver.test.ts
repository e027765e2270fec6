import {describe, expect, it} from 'vitest'
import {cgroupDriver, containerdDriver, crioDriver} from '../../../../src/doctor/checks/cgroup-driver.js'

// containerd 1.6 `containerd config default` excerpt, as kubeadm's docs tell users to edit it
const toml = `version = 2
[plugins]
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
            BinaryName = ""
            SystemdCgroup = true
`

describe('cgroup-driver', () => {
  it('reads the runtimes\' settings and their defaults', () => {
    expect(containerdDriver(toml)).toBe('systemd')
    expect(containerdDriver(toml.replace('true', 'false'))).toBe('cgroupfs')
    expect(containerdDriver('')).toBe('cgroupfs')
    expect(crioDriver(['[crio.runtime]\ncgroup_manager = "systemd"\n', '[crio.runtime]\ncgroup_manager = "cgroupfs"\n'])).toBe('cgroupfs')
    expect(crioDriver(['# cgroup_manager = "cgroupfs"\n'])).toBeUndefined()
  })
  it('fails on a mismatch, naming both sides and the fix', () => {
    const v = cgroupDriver.evaluate({kubelet: {driver: 'systemd', source: '/var/lib/kubelet/config.yaml cgroupDriver'}, runtime: {name: 'containerd', driver: 'cgroupfs', source: '/etc/containerd/config.toml SystemdCgroup'}})
    expect(v).toMatchObject({status: 'FAIL', seen: 'kubelet systemd (/var/lib/kubelet/config.yaml cgroupDriver), containerd cgroupfs (/etc/containerd/config.toml SystemdCgroup)'})
    expect(v.fix).toMatch(/SystemdCgroup = true/)
  })
  it('passes when equal, skips without a kubelet', () => {
    expect(cgroupDriver.evaluate({kubelet: {driver: 'systemd', source: 'x'}, runtime: {name: 'cri-o', driver: 'systemd', source: 'y'}}).status).toBe('PASS')
    expect(cgroupDriver.evaluate({kubelet: null, runtime: null}).status).toBe('SKIP')
  })
})
