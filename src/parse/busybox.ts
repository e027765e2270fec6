// What `busybox --list` prints: the applets a busybox rootfs links.

/** Applet names from `busybox --list` (one a line), without "busybox" itself. */
export function parseBusyboxList(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => /^[a-z0-9_.[\]-]+$/i.test(l) && l !== 'busybox' && !l.includes('/'))
}
