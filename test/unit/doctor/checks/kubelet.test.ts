import {describe, expect, it} from 'vitest'
import {kubelet} from '../../../../src/doctor/checks/kubelet.js'
import {flagValue} from '../../../../src/doctor/facts/processes.js'

// kubeadm's kubelet command line (systemd drop-in 10-kubeadm.conf)
const argv = ['/usr/bin/kubelet', '--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf', '--kubeconfig=/etc/kubernetes/kubelet.conf', '--config=/var/lib/kubelet/config.yaml', '--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock', '--pod-infra-container-image=registry.k8s.io/pause:3.9']

describe('kubelet', () => {
  it('reads --flag=value and --flag value', () => {
    expect(flagValue(argv, '--config')).toBe('/var/lib/kubelet/config.yaml')
    expect(flagValue(['kubelet', '--config', '/x.yaml'], '--config')).toBe('/x.yaml')
    expect(flagValue(argv, '--cgroup-driver')).toBeUndefined()
  })
  it('passes with its config readable', () => {
    expect(kubelet.evaluate({pid: 812, argv, config: {path: '/var/lib/kubelet/config.yaml', readable: true}, kubeconfig: {path: '/etc/kubernetes/kubelet.conf', readable: true}}))
      .toMatchObject({status: 'PASS', seen: 'kubelet PID 812, 5 flags, --config /var/lib/kubelet/config.yaml, --kubeconfig /etc/kubernetes/kubelet.conf'})
  })
  it('fails with no kubelet, or with a config it cannot read', () => {
    expect(kubelet.evaluate({pid: null, argv: [], config: null, kubeconfig: null}).status).toBe('FAIL')
    expect(kubelet.evaluate({pid: 812, argv, config: {path: '/var/lib/kubelet/config.yaml', readable: false}, kubeconfig: null}).status).toBe('FAIL')
    expect(kubelet.evaluate({pid: 812, argv, config: null, kubeconfig: {path: '/etc/kubernetes/kubelet.conf', readable: false}}).status).toBe('WARN')
  })
})
