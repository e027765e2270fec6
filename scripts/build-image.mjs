#!/usr/bin/env node
// Builds the nodedoc image without a registry or a Docker engine, for linux/amd64 and
// linux/arm64: dist/image/nodedoc-image.tar, an OCI image layout (oci-layout, index.json, blobs/)
// whose index names one image index with a manifest per architecture, and which also carries
// `docker save`'s manifest.json for this machine's architecture. `ctr images import`,
// `skopeo copy oci-archive:`, `podman load` and `docker load` all read it.
//
// Each architecture's root filesystem holds the single executable built for it
// (scripts/build-bin.mjs) and the programs nodedoc runs on a node (iptables with both backends,
// nft, ip, nsenter/mount, ipvsadm), taken as Debian's own packages for that architecture:
// `apt-get download` (with a private package list per architecture, so the machine's apt
// configuration is left alone) then `dpkg-deb -x`, with the shared libraries they and the
// executable need. The package list is closed over Depends here, not guessed from ldd. No shell,
// no package manager: nothing in the image is run but nodedoc and the programs it calls.

import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {buildBin, executableIsFresh, executablePath} from './build-bin.mjs'
import {TARGETS, target} from './sea-node.mjs'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const pjson = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'))
export const IMAGE_DIR = join(repo, 'dist', 'image')
export const IMAGE_TAR = join(IMAGE_DIR, 'nodedoc-image.tar')
export const IMAGE_NAME = `localhost/nodedoc:${pjson.version}`
export const ENTRYPOINT = '/usr/local/bin/nodedoc'
const MEDIA = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
}
/** Debian's multiarch triplet and loader, per architecture. */
const DEBIAN = {
  amd64: {triplet: 'x86_64-linux-gnu', loader: 'lib64/ld-linux-x86-64.so.2'},
  arm64: {triplet: 'aarch64-linux-gnu', loader: 'lib/ld-linux-aarch64.so.1'},
}

/** The programs nodedoc runs on a node (mount and ipvsadm are packages of their own) and what the executable links against. */
export const TOOL_PACKAGES = ['iptables', 'nftables', 'iproute2', 'util-linux', 'mount', 'ipvsadm', 'netbase', 'libstdc++6', 'libgcc-s1', 'libc6']
/**
 * Depends that are not files a program needs at run time (package-manager machinery, debconf
 * front ends, the shell maintainer scripts want), or that clash with one already taken
 * (libelogind0 provides libsystemd0's library).
 */
const SKIP = new Set(['debconf', 'cdebconf', 'dpkg', 'tar', 'install-info', 'readline-common', 'util-linux-extra', 'libdebian-installer4', 'libnewt0.52', 'libslang2', 'libtextwrap1', 'libelogind0', 'gcc-12-base', 'libcap2-bin', 'libtirpc-common', 'libaudit-common', 'dash', 'bash', 'coreutils', 'debianutils', 'sensible-utils', 'init-system-helpers', 'perl-base', 'sed', 'grep', 'findutils', 'diffutils', 'base-files', 'base-passwd', 'login', 'passwd', 'adduser'])

const run = (file, args, options = {}) => execFileSync(file, args, {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options})
const sha256 = (data) => createHash('sha256').update(data).digest('hex')

/**
 * apt-get/apt-cache options for goArch with package lists of their own under IMAGE_DIR: the
 * machine's apt state, architectures and status are not touched (a build must not change the
 * machine it runs on).
 */
function aptOptions(goArch) {
  const state = join(IMAGE_DIR, 'apt', goArch)
  for (const dir of ['lists/partial', 'cache/archives/partial']) mkdirSync(join(state, dir), {recursive: true})
  return ['-o', `APT::Architecture=${goArch}`, '-o', `APT::Architectures::=${goArch}`, '-o', `Dir::State::Lists=${join(state, 'lists')}`, '-o', `Dir::Cache=${join(state, 'cache')}`, '-o', 'Dir::State::status=/dev/null', '-o', 'Debug::NoLocking=1']
}

function aptUpdate(goArch) {
  run('apt-get', [...aptOptions(goArch), 'update', '-qq'])
}

/** The package closure over Depends/PreDepends, minus SKIP. */
export function packageClosure(goArch = target(process.arch).goArch, roots = TOOL_PACKAGES) {
  const options = aptOptions(goArch)
  const depends = () => run('apt-cache', [...options, 'depends', '--recurse', '--no-recommends', '--no-suggests', '--no-conflicts', '--no-breaks', '--no-replaces', '--no-enhances', ...roots])
  let out
  try {
    out = depends()
    if (!/^iptables$/m.test(out)) throw new Error('no lists yet')
  } catch {
    aptUpdate(goArch)
    out = depends()
  }
  const names = new Set()
  for (const line of out.split('\n')) {
    if (!line || line.startsWith(' ') || line.startsWith('<')) continue
    const name = line.trim().replace(/:.*$/, '')
    if (!SKIP.has(name)) names.add(name)
  }
  if (!names.has('iptables')) throw new Error(`apt-cache knows no iptables for ${goArch}: apt-get update found no package lists`)
  return [...names].sort()
}

function downloadDebs(goArch, packages) {
  const debDir = join(IMAGE_DIR, 'debs', goArch)
  mkdirSync(debDir, {recursive: true})
  const have = new Set(readdirSync(debDir).filter((f) => f.endsWith('.deb')).map((f) => f.split('_')[0]))
  const missing = packages.filter((p) => !have.has(p))
  // apt-get download as root warns it cannot drop to _apt; the download itself is fine
  if (missing.length) {
    const download = () => run('apt-get', [...aptOptions(goArch), 'download', '-q', ...missing.map((p) => `${p}:${goArch}`)], {cwd: debDir})
    try {
      download()
    } catch {
      // lists older than the mirror name versions it no longer has
      aptUpdate(goArch)
      download()
    }
  }
  const debs = readdirSync(debDir).filter((f) => f.endsWith('.deb') && packages.includes(f.split('_')[0])).sort().map((f) => join(debDir, f))
  const got = new Set(debs.map((d) => d.split('/').at(-1).split('_')[0]))
  const absent = packages.filter((p) => !got.has(p))
  if (absent.length) throw new Error(`apt-get download did not fetch for ${goArch}: ${absent.join(' ')}`)
  return debs
}

function layRootfs(rootfs, goArch, debs, executable) {
  rmSync(rootfs, {recursive: true, force: true})
  for (const dir of ['usr/local/bin', 'etc', 'tmp', 'proc', 'sys', 'dev', 'run', 'var/run', 'root', 'host']) mkdirSync(join(rootfs, dir), {recursive: true})
  chmodSync(join(rootfs, 'tmp'), 0o1777)
  for (const deb of debs) run('dpkg-deb', ['-x', deb, rootfs])
  // manuals are for people at a terminal, not in a debug pod; copyright files stay
  // and iconv's character-set modules are for programs that convert text, which none here does
  for (const dir of ['usr/share/man', 'usr/share/info', 'usr/share/lintian', 'usr/share/locale', 'usr/share/bash-completion', 'usr/share/zsh', `usr/lib/${DEBIAN[goArch].triplet}/gconv`]) rmSync(join(rootfs, dir), {recursive: true, force: true})
  // what maintainer scripts and update-alternatives would have made: iptables means iptables-nft, as on Debian
  for (const name of ['iptables', 'iptables-save', 'iptables-restore', 'ip6tables', 'ip6tables-save', 'ip6tables-restore']) {
    const link = join(rootfs, 'usr/sbin', name)
    if (!existsSync(link)) symlinkSync(name.replace(/^(ip6?tables)/, '$1-nft'), link)
  }
  copyFileSync(executable, join(rootfs, ENTRYPOINT.slice(1)))
  chmodSync(join(rootfs, ENTRYPOINT.slice(1)), 0o755)
  writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n')
  writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n')
  writeFileSync(join(rootfs, 'etc/nsswitch.conf'), 'passwd: files\ngroup: files\nhosts: files dns\nprotocols: files\nservices: files\n')
  const {triplet} = DEBIAN[goArch]
  // the loader searches the multiarch folders by itself; the cache also lists the rest (xtables plugins)
  writeFileSync(join(rootfs, 'etc/ld.so.conf'), `/lib/${triplet}\n/usr/lib/${triplet}\n`)
  if (goArch === target(process.arch).goArch) run('ldconfig', ['-r', rootfs])
}

/** Writes data as a blob of the OCI layout; returns its descriptor. */
function blob(layout, mediaType, data) {
  const digest = sha256(data)
  writeFileSync(join(layout, 'blobs', 'sha256', digest), data)
  return {mediaType, digest: `sha256:${digest}`, size: data.length}
}

/** One architecture's image: a single layer, its config and manifest, as blobs of the layout. */
function writeArchImage(layout, rootfs, goArch, packages) {
  const layerFile = join(layout, `layer-${goArch}.tar`)
  // fixed owner, order and times: the same inputs give the same layer digest
  run('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '--hard-dereference', '-C', rootfs, '-cf', layerFile, '.'])
  // the config names the layer by its uncompressed digest, the manifest by the gzip's (no name, no time: repeatable)
  const diffId = `sha256:${sha256(readFileSync(layerFile))}`
  run('gzip', ['-n', layerFile])
  const layerData = readFileSync(`${layerFile}.gz`)
  rmSync(`${layerFile}.gz`)
  const layer = blob(layout, MEDIA.layer, layerData)
  const created = '1970-01-01T00:00:00Z'
  const config = {
    architecture: goArch,
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
    rootfs: {type: 'layers', diff_ids: [diffId]},
    history: [{created, created_by: 'scripts/build-image.mjs: nodedoc single executable + Debian packages'}],
  }
  const configDesc = blob(layout, MEDIA.config, Buffer.from(JSON.stringify(config)))
  const manifest = {schemaVersion: 2, mediaType: MEDIA.manifest, config: configDesc, layers: [layer]}
  const manifestDesc = blob(layout, MEDIA.manifest, Buffer.from(JSON.stringify(manifest)))
  return {goArch, layer, config: configDesc, manifest: {...manifestDesc, platform: {architecture: goArch, os: 'linux'}}, bytes: layer.size}
}

/** index.json -> an image index (one manifest per architecture), plus docker's manifest.json for this machine's. */
function writeLayout(layout, images, out) {
  const index = {schemaVersion: 2, mediaType: MEDIA.index, manifests: images.map((i) => i.manifest)}
  const indexDesc = blob(layout, MEDIA.index, Buffer.from(JSON.stringify(index)))
  const annotations = {'io.containerd.image.name': IMAGE_NAME, 'org.opencontainers.image.ref.name': pjson.version}
  writeFileSync(join(layout, 'index.json'), JSON.stringify({schemaVersion: 2, mediaType: MEDIA.index, manifests: [{...indexDesc, annotations}]}))
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({imageLayoutVersion: '1.0.0'}))
  const native = images.find((i) => i.goArch === target(process.arch).goArch)
  if (native) {
    const hex = (d) => d.digest.slice('sha256:'.length)
    writeFileSync(join(layout, 'manifest.json'), JSON.stringify([{Config: `blobs/sha256/${hex(native.config)}`, RepoTags: [IMAGE_NAME], Layers: [`blobs/sha256/${hex(native.layer)}`]}]))
  }
  const partial = `${out}.${process.pid}.partial`
  run('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-C', layout, '-cf', partial, '.'])
  renameSync(partial, out)
  return indexDesc
}

export async function buildImage({out = IMAGE_TAR, arches = TARGETS.map((t) => t.goArch), rebuild = true} = {}) {
  const started = performance.now()
  const layout = join(IMAGE_DIR, 'oci')
  rmSync(layout, {recursive: true, force: true})
  mkdirSync(join(layout, 'blobs', 'sha256'), {recursive: true})
  const images = []
  const rootfsByArch = {}
  let packageCount = 0
  for (const goArch of arches) {
    const executable = executablePath(goArch)
    if (rebuild || !executableIsFresh(goArch)) await buildBin({arch: goArch})
    const packages = packageClosure(goArch)
    packageCount = Math.max(packageCount, packages.length)
    const debs = downloadDebs(goArch, packages)
    const rootfs = join(IMAGE_DIR, `rootfs-${goArch}`)
    layRootfs(rootfs, goArch, debs, executable)
    rootfsByArch[goArch] = rootfs
    images.push(writeArchImage(layout, rootfs, goArch, packages))
  }
  const index = writeLayout(layout, images, out)
  rmSync(layout, {recursive: true, force: true})
  const native = target(process.arch).goArch
  return {
    out,
    name: IMAGE_NAME,
    index: index.digest,
    rootfs: rootfsByArch[native],
    rootfsByArch,
    packages: packageCount,
    layers: Object.fromEntries(images.map((i) => [i.goArch, i.bytes])),
    bytes: statSync(out).size,
    ms: Math.round(performance.now() - started),
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = await buildImage({rebuild: !process.argv.includes('--no-rebuild')})
  const mib = (n) => `${(n / 1024 / 1024).toFixed(1)} MiB`
  const layers = Object.entries(result.layers).map(([arch, bytes]) => `linux/${arch} ${mib(bytes)}`).join(', ')
  process.stdout.write(`image: ${result.out} (${result.name}, ${mib(result.bytes)}: ${layers}; ${result.packages} Debian packages, ${result.ms} ms)\n`)
}
