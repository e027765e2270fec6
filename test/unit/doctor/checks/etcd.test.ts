import {describe, expect, it} from 'vitest'
import {clientEndpoint, etcd} from '../../../../src/doctor/checks/etcd.js'

// kubeadm's etcd static pod command line
const argv = ['etcd', '--advertise-client-urls=https://172.18.0.2:2379', '--cert-file=/etc/kubernetes/pki/etcd/server.crt', '--data-dir=/var/lib/etcd', '--listen-client-urls=https://127.0.0.1:2379,https://172.18.0.2:2379', '--trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt']
const base = {process: {pid: 1234, argv}, manifest: true, logs: ['etcd-cp_kube-system_etcd-0a1b.log'], dataDir: {path: '/var/lib/etcd', exists: true}, health: {ok: true, output: 'https://172.18.0.2:2379 is healthy: successfully committed proposal: took = 9.1ms'}}

describe('etcd', () => {
  it('finds the client URL etcdctl should use', () => {
    expect(clientEndpoint(argv)).toBe('https://172.18.0.2:2379')
    expect(clientEndpoint(['etcd', '--listen-client-urls=http://0.0.0.0:2379'])).toBe('http://127.0.0.1:2379')
  })
  it('passes a healthy kubeadm etcd', () => {
    expect(etcd.evaluate(base)).toMatchObject({status: 'PASS', seen: expect.stringContaining('is healthy')})
  })
  it('fails: manifest without process, missing data dir, unhealthy; warns: no log', () => {
    expect(etcd.evaluate({...base, process: null, health: null}).status).toBe('FAIL')
    expect(etcd.evaluate({...base, dataDir: {path: '/var/lib/etcd', exists: false}}).status).toBe('FAIL')
    expect(etcd.evaluate({...base, health: {ok: false, output: 'context deadline exceeded'}}).status).toBe('FAIL')
    expect(etcd.evaluate({...base, logs: []}).status).toBe('WARN')
  })
  it('skips on a worker', () => {
    expect(etcd.evaluate({process: null, manifest: false, logs: [], dataDir: null, health: null}).status).toBe('SKIP')
  })
})
