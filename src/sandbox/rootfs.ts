// Pure helpers for the local image layer: the shared libraries `ldd` lists, and the applets a
// busybox rootfs links.

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

/** Applet names from `busybox --list` (one a line), without "busybox" itself. */
export function parseBusyboxList(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => /^[a-z0-9_.[\]-]+$/i.test(l) && l !== 'busybox' && !l.includes('/'))
}

/** Where applet links go: /bin for all, as the busybox image does. */
export const BUSYBOX_DIRS = ['bin', 'dev', 'etc', 'proc', 'sys', 'tmp', 'root', 'var', 'home', 'usr/bin', 'usr/sbin', 'sbin']

export const MINIMAL_PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n'
export const MINIMAL_GROUP = 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n'
