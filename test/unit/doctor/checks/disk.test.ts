import {describe, expect, it} from 'vitest'
import {disk, parseDfRow} from '../../../../src/doctor/checks/disk.js'

describe('disk', () => {
  it('reads df -P rows (bytes and inodes)', () => {
    expect(parseDfRow('Filesystem        1-blocks       Used  Available Capacity Mounted on\n/dev/vda1     52521566208 11455082496 38360334336      23% /\n'))
      .toEqual({used: 11455082496, available: 38360334336, mount: '/'})
    expect(parseDfRow('Filesystem      Inodes  IUsed   IFree IUse% Mounted on\n/dev/vda1      3276800 81234 3195566    3% /var/lib/my disk\n'))
      .toEqual({used: 81234, available: 3195566, mount: '/var/lib/my disk'})
    expect(parseDfRow('df: /nope: No such file or directory\n')).toBeUndefined()
  })
  const use = (path: string, bytesUsed: number, inodesUsed: number) => ({path, mount: '/', bytesUsed, bytesAvailable: 100 - bytesUsed, inodesUsed, inodesFree: 100 - inodesUsed})
  it('fails past the eviction thresholds, warns before them', () => {
    expect(disk.evaluate({disks: [use('/var/lib/kubelet', 50, 10), use('/var/log', 20, 5)]})).toMatchObject({status: 'PASS', seen: '/var/lib/kubelet 50% space, 10% inodes; /var/log 20% space, 5% inodes'})
    expect(disk.evaluate({disks: [use('/var/lib/kubelet', 85, 10)]}).status).toBe('WARN')
    expect(disk.evaluate({disks: [use('/var/lib/kubelet', 91, 10)]}).status).toBe('FAIL')
    expect(disk.evaluate({disks: [use('/var/lib/containerd', 10, 96)]})).toMatchObject({status: 'FAIL', seen: expect.stringMatching(/^\/var\/lib\/containerd past/)})
    expect(disk.evaluate({disks: []}).status).toBe('SKIP')
  })
})
