import {createHash} from 'node:crypto'
import {mkdir, readFile, rm, symlink, writeFile, copyFile, chmod} from 'node:fs/promises'
import {join} from 'node:path'
import {execa} from 'execa'
import {BUSYBOX_IMAGE, IMAGE_DIR, PAUSE_IMAGE} from './layout.js'

// No registry here: both images are built from local parts in `docker save` layout
// (manifest.json, a config JSON, one layer tar) and imported with `ctr -n k8s.io images import`.

const PAUSE_C = `#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
/* the sandbox's first process: holds the namespaces, reaps orphans, leaves on INT/TERM */
static void reap(int sig) { (void)sig; while (waitpid(-1, 0, WNOHANG) > 0) {} }
static void leave(int sig) { (void)sig; _exit(0); }
int main(void) {
  signal(SIGINT, leave);
  signal(SIGTERM, leave);
  signal(SIGCHLD, reap);
  for (;;) pause();
}
`

const BUSYBOX_BINARY = '/bin/busybox'

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex')
}

export interface ImageParts {
  name: string
  rootfs: string
  config: {Entrypoint?: string[]; Cmd?: string[]; Env: string[]; WorkingDir?: string}
}

/** Packs a rootfs folder into a docker-save tar; returns its path. */
async function saveImage(work: string, parts: ImageParts): Promise<string> {
  const out = join(work, 'out')
  await mkdir(out, {recursive: true})
  // fixed owner and times keep the layer digest stable from run to run
  await execa('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-C', parts.rootfs, '-cf', join(out, 'layer.tar'), '.'])
  const layer = await readFile(join(out, 'layer.tar'))
  const diffId = `sha256:${sha256(layer)}`
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    created: '1970-01-01T00:00:00Z',
    config: parts.config,
    rootfs: {type: 'layers', diff_ids: [diffId]},
    history: [{created: '1970-01-01T00:00:00Z', created_by: 'nodedoc test node'}],
  })
  const configName = `${sha256(config)}.json`
  await writeFile(join(out, configName), config)
  await writeFile(join(out, 'manifest.json'), JSON.stringify([{Config: configName, RepoTags: [parts.name], Layers: ['layer.tar']}]))
  const tarFile = join(work, 'image.tar')
  await execa('tar', ['-C', out, '-cf', tarFile, 'manifest.json', configName, 'layer.tar'])
  return tarFile
}

async function buildPause(work: string): Promise<string> {
  const rootfs = join(work, 'rootfs')
  await mkdir(rootfs, {recursive: true})
  await writeFile(join(work, 'pause.c'), PAUSE_C)
  await execa('gcc', ['-static', '-Os', '-s', '-o', join(rootfs, 'pause'), join(work, 'pause.c')])
  return saveImage(work, {name: PAUSE_IMAGE, rootfs, config: {Entrypoint: ['/pause'], Env: ['PATH=/']}})
}

/** An image a test adds to the node: `fill` lays out its rootfs and returns its config. */
export interface ExtraImage {
  name: string
  fill(rootfs: string): Promise<ImageParts['config']>
}

async function buildBusybox(work: string): Promise<string> {
  const rootfs = join(work, 'rootfs')
  await busyboxRootfs(rootfs)
  return saveImage(work, {name: BUSYBOX_IMAGE, rootfs, config: {Cmd: ['sh'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']}})
}

/** /bin/busybox with a link per applet, /etc/passwd and /etc/group: the busybox image's rootfs. */
export async function busyboxRootfs(rootfs: string): Promise<void> {
  for (const dir of ['bin', 'etc', 'tmp', 'proc', 'sys', 'dev', 'var', 'root']) await mkdir(join(rootfs, dir), {recursive: true})
  await chmod(join(rootfs, 'tmp'), 0o1777)
  await copyFile(BUSYBOX_BINARY, join(rootfs, 'bin/busybox'))
  await chmod(join(rootfs, 'bin/busybox'), 0o755)
  const {stdout} = await execa(BUSYBOX_BINARY, ['--list'])
  for (const applet of stdout.split('\n').map((s) => s.trim()).filter((s) => s && s !== 'busybox')) {
    await symlink('busybox', join(rootfs, 'bin', applet)).catch(() => undefined)
  }
  await writeFile(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n')
  await writeFile(join(rootfs, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n')
}

/** Builds both images and imports them into containerd's k8s.io namespace. */
export async function buildAndImportImages(socket: string, extra: ExtraImage[] = []): Promise<void> {
  await rm(IMAGE_DIR, {recursive: true, force: true})
  const pause = await buildPause(join(IMAGE_DIR, 'pause'))
  const busybox = await buildBusybox(join(IMAGE_DIR, 'busybox'))
  const others: string[] = []
  for (const [i, image] of extra.entries()) {
    const work = join(IMAGE_DIR, `extra-${i}`)
    const rootfs = join(work, 'rootfs')
    await mkdir(rootfs, {recursive: true})
    others.push(await saveImage(work, {name: image.name, rootfs, config: await image.fill(rootfs)}))
  }
  for (const tarFile of [pause, busybox, ...others]) {
    await execa('ctr', ['--address', socket, '-n', 'k8s.io', 'images', 'import', tarFile])
  }
  await rm(IMAGE_DIR, {recursive: true, force: true})
}
