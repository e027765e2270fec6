// The sandbox's image layer, made on the live machine: a busybox tree (one static binary and
// its applet links) or the host binaries a pod runs with the libraries `ldd` lists.

import {chmod, copyFile, link, mkdir, stat, writeFile} from 'node:fs/promises'
import {symlinkSync} from 'node:fs'
import {dirname, join} from 'node:path'
import * as execa from 'execa'
import {parseBusyboxList} from '../parse/busybox.js'
import {parseLdd} from '../parse/ldd.js'
import type {RootfsSource} from './ops.js'
import {which} from './programs.js'

/** Where applet links go: /bin for all, as the busybox image does. */
export const BUSYBOX_DIRS = ['bin', 'dev', 'etc', 'proc', 'sys', 'tmp', 'root', 'var', 'home', 'usr/bin', 'usr/sbin', 'sbin']

export const MINIMAL_PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n'
export const MINIMAL_GROUP = 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n'

export async function buildRootfs(dir: string, source: RootfsSource): Promise<void> {
  if (source.kind === 'dir') return
  await mkdir(dir, {recursive: true})
  for (const d of BUSYBOX_DIRS) await mkdir(join(dir, d), {recursive: true})
  await chmod(join(dir, 'tmp'), 0o1777)
  await writeFile(join(dir, 'etc/passwd'), MINIMAL_PASSWD)
  await writeFile(join(dir, 'etc/group'), MINIMAL_GROUP)
  if (source.kind === 'busybox') {
    // a hard link when the state dir shares the binary's filesystem (the layer is read-only
    // under overlay, so sharing the inode is safe); a copy otherwise
    await link(source.binary, join(dir, 'bin/busybox')).catch(async () => {
      await copyFile(source.binary, join(dir, 'bin/busybox'))
      await chmod(join(dir, 'bin/busybox'), 0o755)
    })
    // hundreds of tiny syscalls: synchronous is an order of magnitude faster than the thread pool
    for (const a of source.applets) {
      try {
        symlinkSync('busybox', join(dir, 'bin', a))
      } catch {}
    }
    return
  }
  for (const {source: from, dest} of source.files) {
    await mkdir(dirname(join(dir, dest)), {recursive: true})
    await copyFile(from, join(dir, dest))
    await chmod(join(dir, dest), (await stat(from)).mode & 0o7777)
  }
}

export async function busyboxApplets(binary: string): Promise<string[]> {
  const result = await execa.execa(binary, ['--list'], {reject: false, stdin: 'ignore'})
  return parseBusyboxList(String(result.stdout))
}

/** The host files a command needs: the binary and what `ldd` lists (as the seed copies bash/ls/ps). */
export async function hostRootfsFiles(programs: string[]): Promise<Array<{source: string; dest: string}>> {
  const files = new Map<string, string>()
  for (const program of programs) {
    const path = await which(program)
    if (!path) continue
    files.set(path, path)
    const ldd = await execa.execa('ldd', [path], {reject: false, stdin: 'ignore'})
    for (const lib of parseLdd(String(ldd.stdout))) files.set(lib, lib)
  }
  return [...files.keys()].map((source) => ({source, dest: source.replace(/^\//, '')}))
}
