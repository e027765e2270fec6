#!/usr/bin/env node
// Builds the nodedoc OCI image without a registry or a Docker engine: dist/image/nodedoc-image.tar
// in `docker save` layout (manifest.json, config JSON, one layer tar), which `ctr images
// import`, `podman load`, `docker load` and `skopeo copy docker-archive:` all read.
//
// The root filesystem holds the single executable (scripts/build-bin.mjs) and the programs
// nodedoc runs on a node (iptables with both backends, nft, ip, nsenter/mount/lsblk), taken as
// Debian's own packages: `apt-get download` then `dpkg-deb -x`, with the shared libraries
// they and the executable need (Debian's lib* packages), so the image is what Debian ships,
// file for file. The package list is closed over Depends here, not guessed from ldd.

import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {buildBin} from './build-bin.mjs'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const pjson = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'))
export const IMAGE_DIR = join(repo, 'dist', 'image')
export const IMAGE_TAR = join(IMAGE_DIR, 'nodedoc-image.tar')
export const IMAGE_NAME = `localhost/nodedoc:${pjson.version}`
export const ENTRYPOINT = '/usr/local/bin/nodedoc'

/**
 * The programs nodedoc runs on a node (mount and ipvsadm are packages of their own), a shell
 * and coreutils for `kubectl debug -it ... -- sh` and the DaemonSet's loop, and what the
 * executable links against.
 */
export const TOOL_PACKAGES = ['iptables', 'nftables', 'iproute2', 'util-linux', 'mount', 'ipvsadm', 'netbase', 'dash', 'coreutils', 'libstdc++6', 'libgcc-s1', 'libc6']
/**
 * Depends that are not files a program needs at run time (package-manager machinery, debconf
 * front ends), or that clash with one already taken (libelogind0 provides libsystemd0's library).
 */
const SKIP = new Set(['debconf', 'cdebconf', 'dpkg', 'tar', 'install-info', 'readline-common', 'util-linux-extra', 'libdebian-installer4', 'libnewt0.52', 'libslang2', 'libtextwrap1', 'libelogind0', 'gcc-12-base', 'libcap2-bin', 'libtirpc-common', 'libaudit-common'])

const run = (file, args, options = {}) => execFileSync(file, args, {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options})
const sha256 = (data) => createHash('sha256').update(data).digest('hex')

/** The package closure over Depends/PreDepends, minus SKIP. */
export function packageClosure(roots = TOOL_PACKAGES) {
  const depends = () => run('apt-cache', ['depends', '--recurse', '--no-recommends', '--no-suggests', '--no-conflicts', '--no-breaks', '--no-replaces', '--no-enhances', ...roots])
  let out
  try {
    out = depends()
  } catch {
    // a fresh machine may have no package lists yet
    run('apt-get', ['update', '-qq'])
    out = depends()
  }
  const names = new Set()
  for (const line of out.split('\n')) {
    if (!line || line.startsWith(' ') || line.startsWith('<')) continue
    const name = line.trim()
    if (!SKIP.has(name)) names.add(name)
  }
  if (!names.has('iptables')) throw new Error('apt-cache knows no iptables: apt-get update found no package lists')
  return [...names].sort()
}

function downloadDebs(packages, debDir) {
  mkdirSync(debDir, {recursive: true})
  const have = new Set(readdirSync(debDir).filter((f) => f.endsWith('.deb')).map((f) => f.split('_')[0]))
  const missing = packages.filter((p) => !have.has(p))
  // apt-get download as root warns it cannot drop to _apt; the download itself is fine
  if (missing.length) {
    try {
      run('apt-get', ['download', '-q', ...missing], {cwd: debDir})
    } catch {
      // lists older than the mirror name versions it no longer has
      run('apt-get', ['update', '-qq'])
      run('apt-get', ['download', '-q', ...missing], {cwd: debDir})
    }
  }
  return readdirSync(debDir).filter((f) => f.endsWith('.deb') && packages.includes(f.split('_')[0])).sort().map((f) => join(debDir, f))
}

function layRootfs(rootfs, debs, executable) {
  rmSync(rootfs, {recursive: true, force: true})
  for (const dir of ['usr/local/bin', 'etc', 'tmp', 'proc', 'sys', 'dev', 'run', 'var/run', 'root', 'host']) mkdirSync(join(rootfs, dir), {recursive: true})
  chmodSync(join(rootfs, 'tmp'), 0o1777)
  for (const deb of debs) run('dpkg-deb', ['-x', deb, rootfs])
  // manuals are for people at a terminal, not in a debug pod; copyright files stay
  for (const dir of ['usr/share/man', 'usr/share/info', 'usr/share/lintian', 'usr/share/locale']) rmSync(join(rootfs, dir), {recursive: true, force: true})
  // what maintainer scripts and update-alternatives would have made: iptables means iptables-nft, as on Debian
  for (const name of ['iptables', 'iptables-save', 'iptables-restore', 'ip6tables', 'ip6tables-save', 'ip6tables-restore']) {
    const link = join(rootfs, 'usr/sbin', name)
    if (!existsSync(link)) symlinkSync(name.replace(/^(ip6?tables)/, '$1-nft'), link)
  }
  // and /bin/sh means dash
  if (!existsSync(join(rootfs, 'bin/sh'))) symlinkSync('dash', join(rootfs, 'bin/sh'))
  copyFileSync(executable, join(rootfs, ENTRYPOINT.slice(1)))
  chmodSync(join(rootfs, ENTRYPOINT.slice(1)), 0o755)
  writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n')
  writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n')
  writeFileSync(join(rootfs, 'etc/nsswitch.conf'), 'passwd: files\ngroup: files\nhosts: files dns\nprotocols: files\nservices: files\n')
  // the loader finds libraries in the multiarch folders through this cache
  writeFileSync(join(rootfs, 'etc/ld.so.conf'), '/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n')
  run('ldconfig', ['-r', rootfs])
}

/** `docker save` layout: one layer, a config whose diff_id is the layer's digest, manifest.json. */
function writeImage(rootfs, out, packages) {
  const work = join(IMAGE_DIR, 'oci')
  rmSync(work, {recursive: true, force: true})
  mkdirSync(work, {recursive: true})
  // fixed owner, order and times: the same inputs give the same layer digest
  run('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '--hard-dereference', '-C', rootfs, '-cf', join(work, 'layer.tar'), '.'])
  const layerDigest = sha256(readFileSync(join(work, 'layer.tar')))
  const created = '1970-01-01T00:00:00Z'
  const config = {
    architecture: 'amd64',
    os: 'linux',
    created,
    config: {
      Entrypoint: [ENTRYPOINT],
      Cmd: ['--help'],
      Env: ['PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'NODEDOC_HOST_ROOT=/host'],
      WorkingDir: '/',
      Labels: {
        'org.opencontainers.image.title': 'nodedoc',
        'org.opencontainers.image.version': pjson.version,
        'org.opencontainers.image.description': pjson.description,
        'org.opencontainers.image.licenses': pjson.license,
        'dev.nodedoc.debian-packages': packages.join(' '),
      },
    },
    rootfs: {type: 'layers', diff_ids: [`sha256:${layerDigest}`]},
    history: [{created, created_by: 'scripts/build-image.mjs: nodedoc single executable + Debian packages'}],
  }
  const configText = JSON.stringify(config)
  const configName = `${sha256(configText)}.json`
  writeFileSync(join(work, configName), configText)
  mkdirSync(join(work, layerDigest))
  // docker save keeps each layer as <id>/layer.tar; the manifest names it
  run('mv', [join(work, 'layer.tar'), join(work, layerDigest, 'layer.tar')])
  writeFileSync(join(work, layerDigest, 'VERSION'), '1.0')
  const manifest = [{Config: configName, RepoTags: [IMAGE_NAME], Layers: [`${layerDigest}/layer.tar`]}]
  writeFileSync(join(work, 'manifest.json'), JSON.stringify(manifest))
  writeFileSync(join(work, 'repositories'), JSON.stringify({[IMAGE_NAME.split(':')[0]]: {[pjson.version]: layerDigest}}))
  rmSync(out, {force: true})
  run('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-C', work, '-cf', out, '.'])
  rmSync(work, {recursive: true, force: true})
  return {configDigest: `sha256:${sha256(configText)}`, layerDigest: `sha256:${layerDigest}`}
}

export async function buildImage({out = IMAGE_TAR} = {}) {
  const started = performance.now()
  const {output: executable} = await buildBin()
  const packages = packageClosure()
  const debs = downloadDebs(packages, join(IMAGE_DIR, 'debs'))
  const got = new Set(debs.map((d) => d.split('/').at(-1).split('_')[0]))
  const absent = packages.filter((p) => !got.has(p))
  if (absent.length) throw new Error(`apt-get download did not fetch: ${absent.join(' ')}`)
  const rootfs = join(IMAGE_DIR, 'rootfs')
  layRootfs(rootfs, debs, executable)
  const digests = writeImage(rootfs, out, packages)
  return {out, name: IMAGE_NAME, rootfs, packages, bytes: statSync(out).size, ms: Math.round(performance.now() - started), ...digests}
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = await buildImage()
  process.stdout.write(`image: ${result.out} (${result.name}, ${(result.bytes / 1024 / 1024).toFixed(1)} MiB, ${result.packages.length} Debian packages, ${result.ms} ms)\n`)
}
