import {describe, expect, it} from 'vitest'
import {parseLdd} from '../../../src/parse/ldd.js'

describe('parseLdd', () => {
  it('reads ldd output', () => {
    const text = '\tlinux-vdso.so.1 (0x00007ffd)\n\tlibselinux.so.1 => /lib/x86_64-linux-gnu/libselinux.so.1 (0x00007f04f7307000)\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f04)\n\t/lib64/ld-linux-x86-64.so.2 (0x00007f04f736e000)\n'
    expect(parseLdd(text)).toEqual(['/lib/x86_64-linux-gnu/libselinux.so.1', '/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2'])
    expect(parseLdd('\tnot a dynamic executable\n')).toEqual([])
  })
})
