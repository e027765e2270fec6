import {describe, expect, it} from 'vitest'
import {parseKubeletVolumePath} from '../../../src/parse/kubelet-paths.js'

const UID = '6f0f2a8e-3c1b-4a57-9d5e-0e7d6c2b1a90'

describe('kubelet paths', () => {
  it('volume paths, with the plugin "~" read as "/"', () => {
    expect(parseKubeletVolumePath(`/var/lib/kubelet/pods/${UID}/volumes/kubernetes.io~projected/kube-api-access-x7k2p`)).toEqual({podUid: UID, plugin: 'kubernetes.io/projected', name: 'kube-api-access-x7k2p'})
    expect(parseKubeletVolumePath(`/var/lib/kubelet/pods/${UID}/volumes/kubernetes.io~csi/pvc-1/mount/data`)).toEqual({podUid: UID, plugin: 'kubernetes.io/csi', name: 'pvc-1'})
    expect(parseKubeletVolumePath(`/var/lib/kubelet/pods/${UID}/volume-subpaths/config/nginx/0`)).toEqual({podUid: UID, plugin: 'subPath', name: 'config'})
    expect(parseKubeletVolumePath(`/var/lib/kubelet/pods/${UID}/etc-hosts`)).toBeUndefined()
  })
})
