// A root on the real filesystem with every kind of link and special file a hostile folder (a
// snapshot, a --host-root, a container's root) can hold; beside it, outside the root, a secret
// that no read through the root may ever reach.
import {execFileSync} from 'node:child_process'
import {linkSync, mkdirSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {tempFolder} from './temp-folder.js'

/** The root and the secret outside it, in a tempFolder: made before the suite's tests, removed after them. */
export function hostileRoot(prefix: string): {base: string; root: string; secret: string} {
  const base = tempFolder(prefix, () => {
    writeFileSync(secret, 'SECRET outside the root\n')
    mkdirSync(join(root, 'etc'), {recursive: true})
    mkdirSync(join(root, 'proc/7'), {recursive: true})
    mkdirSync(join(root, 'var/lib/real'), {recursive: true})
    writeFileSync(join(root, 'etc/shadow'), 'shadow inside the root\n')
    writeFileSync(join(root, 'var/lib/real/file'), 'real file\n')
    symlinkSync('/etc/shadow', join(root, 'proc/7/cmdline')) // absolute: re-rooted
    symlinkSync('../../../../secret', join(root, 'proc/7/environ')) // relative, climbing out
    symlinkSync(secret, join(root, 'proc/7/maps')) // absolute path of the secret: re-rooted, so absent
    symlinkSync('real', join(root, 'var/lib/alias')) // relative, inside
    symlinkSync('/var/lib', join(root, 'varlib')) // absolute directory link
    symlinkSync('loop-b', join(root, 'loop-a'))
    symlinkSync('loop-a', join(root, 'loop-b'))
    symlinkSync('/', join(root, 'slash'))
    execFileSync('mkfifo', [join(root, 'fifo')])
    linkSync(secret, join(root, 'hardlink'))
    // a device node needs root
    if (process.getuid?.() === 0) execFileSync('mknod', [join(root, 'zero'), 'c', '1', '5'])
  })
  const root = join(base, 'root')
  const secret = join(base, 'secret')
  return {base, root, secret}
}
