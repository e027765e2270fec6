// What `ldd PROGRAM` prints: the shared libraries a host binary needs in a copied rootfs.

/**
 * Library paths from `ldd` output:
 *   linux-vdso.so.1 (0x...)                      -> skipped (in the kernel)
 *   libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)
 *   /lib64/ld-linux-x86-64.so.2 (0x...)
 *   "not a dynamic executable"                   -> none
 */
export function parseLdd(text: string): string[] {
  const out: string[] = []
  for (const line of text.split('\n')) {
    const arrow = /=>\s*(\/\S+)/.exec(line)
    if (arrow) out.push(arrow[1])
    else {
      const bare = /^\s*(\/\S+)\s+\(0x[0-9a-f]+\)/.exec(line)
      if (bare) out.push(bare[1])
    }
  }
  return [...new Set(out)]
}
