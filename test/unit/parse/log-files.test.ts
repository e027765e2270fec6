import {describe, expect, it} from 'vitest'
import {instanceFiles, parseContainerLogLinkName, parseLogFileName, parsePodLogDirName, podLogsFromListing} from '../../../src/parse/log-files.js'

const UID = '0125ec2f-b64a-4868-8f5b-94b56cbab864'
const f = (name: string, sizeBytes = 10) => ({name, sizeBytes, mtimeMs: 0})

describe('log file names', () => {
  it('reads pod folders in both layouts', () => {
    expect(parsePodLogDirName(`kube-system_coredns-5d78c9869d-8xq2p_${UID}`)).toEqual({namespace: 'kube-system', name: 'coredns-5d78c9869d-8xq2p', uid: UID, layout: 'current'})
    expect(parsePodLogDirName('kube-system_etcd-cp_33d556edd3ae8ef21980288cef77ae8b')?.uid).toBe('33d556edd3ae8ef21980288cef77ae8b')
    expect(parsePodLogDirName(UID)).toEqual({namespace: null, name: null, uid: UID, layout: 'legacy'})
    expect(parsePodLogDirName('lost+found')).toBeNull()
    expect(parsePodLogDirName('a_b')).toBeNull()
  })
  it('reads live, rotated and compressed files; ignores .tmp and strangers', () => {
    expect(parseLogFileName('3.log')).toEqual({restart: 3, rotatedAt: null, compressed: false})
    expect(parseLogFileName('0.log.20240501-101500')).toEqual({restart: 0, rotatedAt: '20240501-101500', compressed: false})
    expect(parseLogFileName('0.log.20240501-101500.gz')).toEqual({restart: 0, rotatedAt: '20240501-101500', compressed: true})
    for (const name of ['0.log.20240501-101500.tmp', '0.log.gz', 'x.log', '0.log.1', 'README']) expect(parseLogFileName(name), name).toBeNull()
  })
  it('reads /var/log/containers link names', () => {
    const id = 'a'.repeat(64)
    expect(parseContainerLogLinkName(`web-7d4b9_prod_nginx-sidecar-${id}.log`)).toEqual({pod: 'web-7d4b9', namespace: 'prod', container: 'nginx-sidecar', containerId: id})
    expect(parseContainerLogLinkName('web_prod_nginx-abc.log')).toBeNull()
  })
})

describe('podLogsFromListing', () => {
  const listing = [{
    dirName: `prod_web_${UID}`,
    containers: [
      {name: 'nginx', files: [f('1.log'), f('0.log'), f('1.log.20240501-120000.gz'), f('1.log.20240501-110000.gz'), f('1.log.20240501-130000'), f('1.log.20240501-140000.tmp')]},
      {name: 'empty', files: []},
    ],
    files: [],
  }, {
    dirName: 'd2c6a1b0-1111-4222-8333-444455556666',
    containers: [],
    files: [f('app_0.log'), f('app_1.log'), f('junk.txt')],
  }, {dirName: 'not-a-pod-dir', containers: [], files: []}]
  const pods = podLogsFromListing('/var/log/pods', listing, new Map([['d2c6a1b0-1111-4222-8333-444455556666', {namespace: 'old', name: 'legacy-pod'}]]))

  it('orders each container oldest first: restart, then rotation stamp, then the live file; .tmp left out', () => {
    const nginx = pods.find((p) => p.name === 'web')!.containers.find((c) => c.name === 'nginx')!
    expect(nginx.files.map((x) => x.path.split('/').pop())).toEqual(['0.log', '1.log.20240501-110000.gz', '1.log.20240501-120000.gz', '1.log.20240501-130000', '1.log'])
    expect(nginx.files[0].path).toBe(`/var/log/pods/prod_web_${UID}/nginx/0.log`)
  })
  it('names legacy folders from the container links and reads <ctr>_<n>.log files', () => {
    const legacy = pods.find((p) => p.layout === 'legacy')!
    expect(legacy).toMatchObject({namespace: 'old', name: 'legacy-pod'})
    expect(legacy.containers.map((c) => [c.name, c.files.map((x) => x.path)])).toEqual([
      ['app', ['/var/log/pods/d2c6a1b0-1111-4222-8333-444455556666/app_0.log', '/var/log/pods/d2c6a1b0-1111-4222-8333-444455556666/app_1.log']],
    ])
    expect(pods).toHaveLength(2)
  })
  it('picks the current and the previous instance', () => {
    const nginx = pods.find((p) => p.name === 'web')!.containers[1]
    expect(nginx.name).toBe('nginx')
    expect(instanceFiles(nginx, false)).toMatchObject({restart: 1})
    expect(instanceFiles(nginx, false)!.files).toHaveLength(4)
    expect(instanceFiles(nginx, true)!.files.map((x) => x.path.split('/').pop())).toEqual(['0.log'])
    const empty = pods.find((p) => p.name === 'web')!.containers[0]
    expect(instanceFiles(empty, false)).toBeUndefined()
    expect(instanceFiles({name: 'x', files: [nginx.files[4]]}, true)).toBeUndefined()
  })
})
