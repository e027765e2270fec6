import {existsSync, readFileSync} from 'node:fs'
import {execaSync} from 'execa'
import {describe, expect, it} from 'vitest'
import {elfInterpreter} from '../../../src/parse/elf.js'

/** A minimal 64-bit little-endian ELF header with one program header of the given type. */
function elf64(type: number, interp = '/lib64/ld-linux-x86-64.so.2\0'): Uint8Array {
  const bytes = new Uint8Array(64 + 56 + interp.length)
  const view = new DataView(bytes.buffer)
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1])
  view.setBigUint64(32, 64n, true) // e_phoff
  view.setUint16(54, 56, true) // e_phentsize
  view.setUint16(56, 1, true) // e_phnum
  view.setUint32(64, type, true)
  view.setBigUint64(64 + 8, 120n, true) // p_offset
  view.setBigUint64(64 + 32, BigInt(interp.length), true) // p_filesz
  bytes.set(Buffer.from(interp, 'latin1'), 120)
  return bytes
}

describe('elfInterpreter', () => {
  it('names the loader of a dynamic executable and null for a static one', () => {
    expect(elfInterpreter(elf64(3))).toBe('/lib64/ld-linux-x86-64.so.2')
    expect(elfInterpreter(elf64(1))).toBe(null)
  })

  it('is undefined for what is not ELF, or is cut short', () => {
    expect(elfInterpreter(Buffer.from('#!/bin/sh\necho hi\n'.repeat(4)))).toBe(undefined)
    expect(elfInterpreter(elf64(3).subarray(0, 100))).toBe(undefined)
    expect(elfInterpreter(new Uint8Array(0))).toBe(undefined)
  })

  // the machine's own binaries, where present: coreutils is dynamic, busybox-static is not
  it.skipIf(!existsSync('/bin/busybox') || !existsSync('/bin/ls'))('agrees with the binaries of this machine', () => {
    expect(elfInterpreter(readFileSync('/bin/ls'))).toMatch(/^\/lib.*ld-linux.*\.so\.\d$/)
    // ldd's own verdict on busybox (static with busybox-static, dynamic with Debian's busybox)
    const ldd = execaSync('ldd', ['/bin/busybox'], {reject: false})
    const isStatic = /not a dynamic executable|statically linked/.test(String(ldd.stdout) + String(ldd.stderr))
    expect(elfInterpreter(readFileSync('/bin/busybox')) === null).toBe(isStatic)
  })
})
