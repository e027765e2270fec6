import {describe, expect, it} from 'vitest'
import {cgroupVersionOf, identifyCgroupPath, identifyProcCgroup, parseProcCgroup} from '../../../src/parse/cgroup.js'
import {HAVE_CORPUS, NO_CORPUS_MESSAGE, corpusFiles, expectOracleKeys} from '../../helpers/corpus.js'

const RUNTIME_NAMES: Record<string, string> = {containerd: 'containerd', 'cri-o': 'cri-o', docker: 'docker', unknown: 'unknown'}

describe.skipIf(!HAVE_CORPUS)('every /proc/<pid>/cgroup in the corpus', () => {
  const files = corpusFiles('cgroup')
  it('has fixtures', () => expect(files.length, NO_CORPUS_MESSAGE).toBeGreaterThan(10))

  for (const file of files) {
    it(file.name, () => {
      const entries = parseProcCgroup(file.text)
      const lines = file.text.split('\n').filter((l) => l.trim())
      // every line is an entry, also the decorated ones
      expect(entries).toHaveLength(lines.length)
      const identity = identifyProcCgroup(entries)
      const oracle = file.expect
      if (!oracle) {
        // no oracle: the source notes name the pod; at least a pod UID and container ID come out
        expect(identity.podUid).toMatch(/^[0-9a-f-]{32,36}$/)
        expect(identity.containerId).toMatch(/^[0-9a-f]{64}$/)
        return
      }
      expectOracleKeys(oracle, ['cgroup_version', 'pod_uid', 'container_id', 'qos_class', 'cgroup_driver', 'runtime'], ['notes', 'in_container', 'kubernetes', 'path_is_namespace_relative'], file.name)
      expect(cgroupVersionOf(entries)).toBe(oracle.cgroup_version)
      if ('pod_uid' in oracle) expect(identity.podUid).toBe(oracle.pod_uid)
      if ('container_id' in oracle) expect(identity.containerId).toBe(oracle.container_id)
      if ('qos_class' in oracle) expect(identity.qosClass).toBe(oracle.qos_class)
      if ('cgroup_driver' in oracle) expect(identity.driver).toBe(oracle.cgroup_driver)
      if ('runtime' in oracle) {
        // a bare 64-hex ID is written alike by containerd and docker: the path alone cannot tell
        const bareId = /\/[0-9a-f]{64}\s*$/m.test(file.text)
        expect(identity.runtime).toBe(bareId ? 'unknown' : RUNTIME_NAMES[String(oracle.runtime)])
      }
    })
  }

  it('the decorated lxc capture keeps its 12 hierarchies', () => {
    const lxc = files.find((f) => f.name.startsWith('v1-docker-systemd-log-prefixed'))!
    const entries = parseProcCgroup(lxc.text)
    expect(entries.find((e) => e.controllers.includes('rdma'))?.path).toBe('/')
    expect(identifyProcCgroup(entries)).toMatchObject({podUid: '7d4424e6-bb13-42f4-a47a-45a4828bf54d', qosClass: 'Burstable', runtime: 'docker'})
  })
})

describe('cgroup paths this project writes and kind nests', () => {
  const uid = '0d4c5f6a-1b2c-4d3e-8f90-123456789abc'
  const id = 'a'.repeat(64)
  it('cgroupfs guaranteed pod has no QoS folder', () => {
    expect(identifyCgroupPath(`/kubepods/pod${uid}/${id}`)).toMatchObject({podUid: uid, qosClass: 'Guaranteed', driver: 'cgroupfs', containerId: id, podPath: `/kubepods/pod${uid}`})
  })
  it('kind nests kubepods under kubelet.slice', () => {
    const path = `/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod${uid.replace(/-/g, '_')}.slice/cri-containerd-${id}.scope`
    expect(identifyCgroupPath(path)).toMatchObject({podUid: uid, qosClass: 'BestEffort', driver: 'systemd', runtime: 'containerd', containerId: id})
  })
  it('CRI-O conmon scope is marked, not taken for the container', () => {
    const path = `/kubepods.slice/kubepods-pod${uid.replace(/-/g, '_')}.slice/crio-conmon-${id}.scope`
    expect(identifyCgroupPath(path)).toMatchObject({podUid: uid, qosClass: 'Guaranteed', conmon: true, runtime: 'cri-o'})
  })
  it('the pod cgroup itself has no container', () => {
    expect(identifyCgroupPath(`/kubepods/burstable/pod${uid}`)).toMatchObject({podUid: uid, containerId: null, qosClass: 'Burstable'})
  })
  it('host processes have no identity', () => {
    expect(identifyCgroupPath('/user.slice/user-0.slice/session-1.scope')).toMatchObject({podUid: null, containerId: null})
  })
})
