import {describe, expect, it} from 'vitest'
import {requiredTools} from '../../../src/sandbox/service.js'

describe('requiredTools', () => {
  it('asks for what each isolation level runs', () => {
    expect(requiredTools('chroot', false)).toEqual(['sh', 'chroot'])
    expect(requiredTools('unshare', true)).toEqual(['sh', 'sleep', 'chroot', 'mount', 'umount', 'unshare', 'nsenter', 'cp', 'hostname', 'ip'])
    expect(requiredTools('full', false)).toEqual(['sh', 'sleep', 'chroot', 'mount', 'umount', 'unshare', 'nsenter', 'cp', 'hostname', 'setpriv', 'pivot_root', 'rmdir'])
  })
})
