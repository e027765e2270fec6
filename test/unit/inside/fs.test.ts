import {describe, expect, it} from 'vitest'
import {holdsSecrets, owningMount} from '../../../src/inside/fs.js'
import type {MountRecord} from '../../../src/pods/types.js'

const mount = (destination: string, fsType: string, volume: MountRecord['volume'] = null): MountRecord => ({destination, source: 's', fsType, readOnly: false, propagation: 'private', volume})

describe('owning mount and secrets', () => {
  const mounts = [
    mount('/', 'overlay'),
    mount('/proc', 'proc'),
    mount('/var/run/secrets/kubernetes.io/serviceaccount', 'tmpfs', {name: 'kube-api-access-x1', plugin: 'kubernetes.io/projected'}),
    mount('/etc/hosts', 'ext4'),
    mount('/data', 'ext4', {name: 'cache', plugin: 'kubernetes.io/empty-dir'}),
    mount('/data', 'ext4', {name: 'over', plugin: 'kubernetes.io/empty-dir'}),
    mount('/creds', 'tmpfs', {name: 'db', plugin: 'kubernetes.io/secret'}),
  ]
  it('is the longest destination holding the path, the last mounted on a tie', () => {
    expect(owningMount(mounts, '/etc/hosts')?.destination).toBe('/etc/hosts')
    expect(owningMount(mounts, '/etc/hostsx')?.destination).toBe('/')
    expect(owningMount(mounts, '/data/a')?.volume?.name).toBe('over')
    expect(owningMount(mounts, '/proc/1/status')?.fsType).toBe('proc')
  })
  it('withholds secret and projected volumes and secrets folders', () => {
    const token = '/var/run/secrets/kubernetes.io/serviceaccount/token'
    expect(holdsSecrets(owningMount(mounts, token), token)).toMatch(/projected volume kube-api-access-x1/)
    expect(holdsSecrets(owningMount(mounts, '/creds/password'), '/creds/password')).toMatch(/secret volume db/)
    expect(holdsSecrets(owningMount(mounts, '/run/secrets/x'), '/run/secrets/x')).toBe('a secrets folder')
    expect(holdsSecrets(owningMount(mounts, '/data/a'), '/data/a')).toBeNull()
  })
})
