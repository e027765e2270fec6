// The sandbox's image layer, made on the live machine: a busybox tree (one static binary and
// its applet links) or the host binaries a pod runs with the libraries `ldd` lists.

import {createHash, randomBytes} from 'node:crypto'
import {chmod, copyFile, link, mkdir, readFile, rename, rm, stat, writeFile} from 'node:fs/promises'
import {readlinkSync, statSync, symlinkSync} from 'node:fs'
import {basename, dirname, join} from 'node:path'
import {parseBusyboxList} from '../parse/busybox.js'
import {elfInterpreter} from '../parse/elf.js'
import {parseLdd} from '../parse/ldd.js'
import type {RootfsSource} from './ops.js'
import {exists, which} from './programs.js'
import {errno, runProgram} from './run.js'

/** Where applet links go: /bin for all, as the busybox image does. */
export const BUSYBOX_DIRS = ['bin', 'dev', 'etc', 'proc', 'sys', 'tmp', 'root', 'var', 'home', 'usr/bin', 'usr/sbin', 'sbin']

export const MINIMAL_PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n'
export const MINIMAL_GROUP = 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n'

export async function buildRootfs(dir: string, source: RootfsSource): Promise<void> {
  if (source.kind === 'dir' || source.kind === 'layer') return
  await mkdir(dir, {recursive: true})
  await buildTree(dir)
  if (source.kind === 'busybox') {
    // a hard link when the state dir shares the binary's filesystem (the layer is read-only
    // under overlay, so sharing the inode is safe); a copy otherwise
    await link(source.binary, join(dir, 'bin/busybox')).catch(async () => {
      await copyFile(source.binary, join(dir, 'bin/busybox'))
      await chmod(join(dir, 'bin/busybox'), 0o755)
    })
    linkApplets(dir, source.applets)
    return
  }
  for (const {source: from, dest} of source.files) {
    await mkdir(dirname(join(dir, dest)), {recursive: true})
    await copyFile(from, join(dir, dest))
    await chmod(join(dir, dest), (await stat(from)).mode & 0o7777)
  }
}

/** The image's folders and its minimal passwd/group. */
async function buildTree(dir: string): Promise<void> {
  for (const d of BUSYBOX_DIRS) await mkdir(join(dir, d), {recursive: true})
  await chmod(join(dir, 'tmp'), 0o1777)
  await writeFile(join(dir, 'etc/passwd'), MINIMAL_PASSWD)
  await writeFile(join(dir, 'etc/group'), MINIMAL_GROUP)
}

/** One link per applet in /bin, as the busybox image has. */
function linkApplets(dir: string, applets: string[]): void {
  // hundreds of tiny syscalls: synchronous is an order of magnitude faster than the thread pool
  for (const a of applets) {
    try {
      symlinkSync('busybox', join(dir, 'bin', a))
    } catch {}
  }
}

export async function busyboxApplets(binary: string): Promise<string[]> {
  return parseBusyboxList((await runProgram([binary, '--list'])).stdout)
}

/** The host files a command needs: the binary and what `ldd` lists (as the seed copies bash/ls/ps). */
export async function hostRootfsFiles(programs: string[]): Promise<Array<{source: string; dest: string}>> {
  const files = new Map<string, string>()
  for (const program of programs) {
    const path = await which(program)
    if (!path) continue
    files.set(path, path)
    for (const lib of parseLdd((await runProgram(['ldd', path])).stdout)) files.set(lib, lib)
  }
  return [...files.keys()].map((source) => ({source, dest: source.replace(/^\//, '')}))
}

/** A busybox binary as an image layer's content: its sha256 and whether it runs alone (static). */
export interface BusyboxFacts {
  digest: string
  isStatic: boolean
}

/** Reads the binary once: its digest names the shared layer, its ELF header says static or not (no `ldd` run). */
export async function busyboxFacts(binary: string): Promise<BusyboxFacts> {
  const bytes = await readFile(binary)
  return {digest: createHash('sha256').update(bytes).digest('hex'), isStatic: elfInterpreter(bytes) === null}
}

/** The binary's stat as a name: a write changes its ctime (which no program can set back), a replacement its inode. */
export async function statKey(binary: string): Promise<string> {
  const st = statSync(binary, {bigint: true})
  return `${st.dev}-${st.ino}-${st.size}-${st.ctimeNs}-${st.mtimeNs}`
}

/** The index entry of a layer: <layers>/.stat-<stat key> -> busybox-<sha256>. */
const indexEntry = (layers: string, key: string) => join(layers, `.stat-${key}`)

/**
 * busyboxFacts without reading the binary when a layer was made from this very file (same
 * inode, size and change time, as the index in the layers dir says) and is still there.
 */
export async function indexedBusyboxFacts(layers: string, binary: string): Promise<BusyboxFacts & {statKey: string}> {
  const key = await statKey(binary)
  let target = ''
  try {
    target = readlinkSync(indexEntry(layers, key))
  } catch {}
  const digest = /^busybox-([0-9a-f]{64})$/.exec(target)?.[1]
  if (digest && (await exists(join(layers, target, 'bin/busybox')))) return {digest, isStatic: true, statKey: key}
  return {...(await busyboxFacts(binary)), statKey: key}
}

/** Notes in the layers dir which binary (by its stat) the layer at dir was made from. */
export async function indexLayer(dir: string, key: string): Promise<void> {
  // in place, as exists(): the create's containers wait for this step
  try {
    symlinkSync(basename(dir), indexEntry(dirname(dir), key))
  } catch (error) {
    if (errno(error) !== 'EEXIST') throw error
  }
}

/**
 * The shared image layer at dir (<layers>/busybox-<sha256>): there already, or built beside it
 * and renamed into place, so a reader never sees half a layer and two creates at once end with
 * one. The binary is written from the bytes whose digest names the layer: what the name says
 * is what the layer holds.
 */
export async function ensureBusyboxLayer(dir: string, binary: string, digest: string): Promise<'cached' | 'built'> {
  if (await exists(join(dir, 'bin/busybox'))) return 'cached'
  const bytes = await readFile(binary)
  if (createHash('sha256').update(bytes).digest('hex') !== digest) throw new Error(`${binary} changed since it was read (sha256 no longer ${digest.slice(0, 12)}...)`)
  const applets = await busyboxApplets(binary)
  const tmp = join(dirname(dir), `.build-${basename(dir)}-${randomBytes(4).toString('hex')}`)
  try {
    await mkdir(tmp, {recursive: true})
    await buildTree(tmp)
    await writeFile(join(tmp, 'bin/busybox'), bytes, {mode: 0o755})
    await chmod(join(tmp, 'bin/busybox'), 0o755)
    linkApplets(tmp, applets)
    try {
      await rename(tmp, dir)
    } catch (error) {
      // another create put the same layer in place first: use theirs
      if (!['EEXIST', 'ENOTEMPTY'].includes(errno(error) ?? '')) throw error
    }
  } finally {
    await rm(tmp, {recursive: true, force: true})
  }
  return 'built'
}

/**
 * Removes every shared layer once no sandbox is left (stateRoot gone). The folder is renamed
 * away first, then stateRoot is looked at again: a create that began in between gets the
 * layers back rather than losing them under its feet.
 */
export async function removeLayers(layersRoot: string, stateRoot: string): Promise<void> {
  if (!(await exists(layersRoot)) || (await exists(stateRoot))) return
  const gone = `${layersRoot}.gone-${randomBytes(4).toString('hex')}`
  try {
    await rename(layersRoot, gone)
  } catch {
    return
  }
  if ((await exists(stateRoot)) && !(await exists(layersRoot))) {
    const back = await rename(gone, layersRoot).then(() => true, () => false)
    if (back) return
  }
  await rm(gone, {recursive: true, force: true})
}
