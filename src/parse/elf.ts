// An ELF file's program headers, read far enough to tell a static binary from one that needs
// a dynamic loader (PT_INTERP): what `ldd` answers, without running a program.

const PT_INTERP = 3

/**
 * The loader an ELF executable names (PT_INTERP), null for a static one, undefined when the
 * bytes are not an ELF file or are cut short.
 */
export function elfInterpreter(bytes: Uint8Array): string | null | undefined {
  if (bytes.length < 52 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) return undefined
  const is64 = bytes[4] === 2
  const little = bytes[5] === 1
  if (!is64 && bytes[4] !== 1) return undefined
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const word = (at: number) => (is64 ? Number(view.getBigUint64(at, little)) : view.getUint32(at, little))
  if (bytes.length < (is64 ? 64 : 52)) return undefined
  const phoff = word(is64 ? 32 : 28)
  const phentsize = view.getUint16(is64 ? 54 : 42, little)
  const phnum = view.getUint16(is64 ? 56 : 44, little)
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize
    if (at + (is64 ? 56 : 32) > bytes.length) return undefined
    if (view.getUint32(at, little) !== PT_INTERP) continue
    const offset = word(at + (is64 ? 8 : 4))
    const size = word(at + (is64 ? 32 : 16))
    if (offset + size > bytes.length) return undefined
    return Buffer.from(bytes.subarray(offset, offset + size)).toString('latin1').replace(/\0.*$/s, '')
  }
  return null
}
