import {describe, expect, it} from 'vitest'
import {identifyCgroupPath} from '../../../src/parse/cgroup.js'
import {hostSourceOf, identifyFromMountinfo, overlayLayers, parseMountinfo, parseMountinfoLine, propagation} from '../../../src/parse/mountinfo.js'
import {HAVE_CORPUS, NO_CORPUS_MESSAGE, corpusFiles, expectOracleKeys} from '../../helpers/corpus.js'

describe.skipIf(!HAVE_CORPUS)('every mountinfo in the corpus', () => {
  const files = corpusFiles('mountinfo')
  it('has fixtures', () => expect(files.length, NO_CORPUS_MESSAGE).toBeGreaterThan(5))

  for (const file of files) {
    it(file.name, () => {
      const {mounts, bad} = parseMountinfo(file.text)
      expect(bad).toBe(0)
      expect(mounts).toHaveLength(file.text.split('\n').filter((l) => l.trim()).length)
      for (const m of mounts) {
        expect(m.mountPoint.startsWith('/')).toBe(true)
        expect(m.fsType).not.toBe('')
      }
      const oracle = file.expect
      if (!oracle) return
      // what the mount table says about the container; the rest of an oracle describes the capture
      expectOracleKeys(oracle, ['pod_uid', 'container_name', 'sandbox_id', 'container_id', 'runtime'], [
        'notes', 'cgroup_driver', 'cgroup_root_namespace_relative', 'cgroup_version', 'crio_sandbox_shm_ids', 'in_container',
        'kubelet_projected_volumes', 'qos_class', 'serviceaccount_mount', 'volumes',
      ], file.name)
      const id = identifyFromMountinfo(mounts, (root) => identifyCgroupPath(root).containerId)
      for (const [key, field] of [['pod_uid', 'podUid'], ['container_name', 'containerName'], ['sandbox_id', 'sandboxId']] as const) {
        if (key in oracle) expect(id[field], key).toBe(oracle[key])
      }
      // container IDs come from cgroup mount roots, which only v1 and nested v2 mounts carry
      if (oracle.container_id && mounts.some((m) => /[0-9a-f]{64}/.test(m.root) && m.fsType.startsWith('cgroup'))) expect(id.containerId).toBe(oracle.container_id)
      // oracles may add words after the runtime ("containerd (k3s, nested in docker)")
      if (oracle.runtime && id.runtime) expect(id.runtime).toBe(String(oracle.runtime).split(' ')[0])
    })
  }
})

describe.skipIf(!HAVE_CORPUS)('/proc/mounts in the corpus', () => {
  it('is not mountinfo and is refused line by line, not thrown on', () => {
    const [file] = corpusFiles('mounts')
    const {mounts, bad} = parseMountinfo(file.text)
    expect(mounts).toHaveLength(0)
    expect(bad).toBeGreaterThan(100)
  })
})

describe('mountinfo fields', () => {
  it('unescapes octal and splits optional fields', () => {
    const m = parseMountinfoLine('36 35 98:0 /mnt\\040one /mnt2 rw,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue')!
    expect(m).toMatchObject({root: '/mnt one', mountPoint: '/mnt2', optionalFields: ['master:1', 'shared:2'], fsType: 'ext3', source: '/dev/root'})
    expect(propagation(m)).toBe('shared,slave')
  })
  it('reads overlay layers', () => {
    const m = parseMountinfoLine('1 0 0:5 / / rw - overlay overlay rw,lowerdir=/a:/b,upperdir=/u,workdir=/w')!
    expect(overlayLayers(m)).toEqual({upperDir: '/u', lowerDirs: ['/a', '/b'], workDir: '/w'})
  })
  it('resolves a bind mount to the host path through the host mount of the same device', () => {
    const host = parseMountinfo(['20 1 8:1 / / rw - ext4 /dev/sda1 rw', '30 20 8:2 / /var rw - ext4 /dev/sda2 rw'].join('\n')).mounts
    const bind = parseMountinfoLine('50 40 8:2 /lib/kubelet/pods/u/etc-hosts /etc/hosts rw - ext4 /dev/sda2 rw')!
    expect(hostSourceOf(bind, host)).toBe('/var/lib/kubelet/pods/u/etc-hosts')
  })
})
