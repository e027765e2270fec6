// The image from `npm run build:image`, checked without a container runtime: the OCI layout and
// its digests as an importer reads them (an image index with linux/amd64 and linux/arm64, plus
// docker's manifest.json for this machine's), and this machine's root filesystem run with chroot
// on this kernel (nodedoc and every tool it calls start, with nothing from the host). Running it
// as a pod in containerd is test/e2e/ship-image.test.ts.
import {createHash} from 'node:crypto'
import {cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {REPO, nodedoc} from './helpers.js'

interface Descriptor {mediaType: string; digest: string; size: number; platform?: {architecture: string; os: string}; annotations?: Record<string, string>}
const pjson = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'))
// compare with the bundle the executable was built from, not a dist/ someone recompiled since
const SAME_BUILD = {NODEDOC_BUNDLE: '1'}
const NATIVE = process.arch === 'arm64' ? 'arm64' : 'amd64'
let dir: string
let image: string
let rootfs: Record<string, string>
let manifests: Record<string, {config: Descriptor; layers: Descriptor[]}>
let configs: Record<string, any>
let output: string

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex')
const blobPath = (digest: string) => join(image, 'blobs', 'sha256', digest.replace(/^sha256:/, ''))
const readBlob = (d: Descriptor) => JSON.parse(readFileSync(blobPath(d.digest), 'utf8'))

/** A program inside the image's root, with the image's environment and nothing else. */
function inImage(argv: string[]) {
  const env = Object.fromEntries(configs[NATIVE].config.Env.map((e: string) => e.split(/=(.*)/s).slice(0, 2)))
  // as a runtime starts it: its own /proc (nodedoc resolves paths through /proc/self/fd), in a
  // mount namespace of its own, so the mount goes when the process does
  mkdirSync(join(rootfs[NATIVE], 'proc'), {recursive: true})
  return execa('unshare', ['--mount', '--pid', '--fork', `--mount-proc=${join(rootfs[NATIVE], 'proc')}`, 'chroot', rootfs[NATIVE], ...argv], {reject: false, extendEnv: false, env, stdin: 'ignore'})
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nodedoc-image-'))
  // executables built from this bundle (by single-executable.test.ts) are reused, stale ones rebuilt
  const built = await execa(process.execPath, [join(REPO, 'scripts', 'build-image.mjs'), '--no-rebuild'], {cwd: REPO, reject: false})
  expect(built.exitCode, built.stderr).toBe(0)
  output = built.stdout
  const tar = built.stdout.match(/image: (\S+)/)![1]
  image = join(dir, 'image')
  mkdirSync(image)
  await execa('tar', ['-xf', tar, '-C', image])
  const top = JSON.parse(readFileSync(join(image, 'index.json'), 'utf8'))
  const index = readBlob(top.manifests[0])
  manifests = {}
  configs = {}
  rootfs = {}
  for (const entry of index.manifests as Descriptor[]) {
    const arch = entry.platform!.architecture
    manifests[arch] = readBlob(entry)
    configs[arch] = readBlob(manifests[arch].config)
    rootfs[arch] = join(dir, `rootfs-${arch}`)
    mkdirSync(rootfs[arch])
    await execa('tar', ['-xzf', blobPath(manifests[arch].layers[0].digest), '-C', rootfs[arch]])
  }
}, 900_000)

afterAll(() => {
  if (dir) rmSync(dir, {recursive: true, force: true})
})

describe('nodedoc image', () => {
  it('is an OCI image index for linux/amd64 and linux/arm64 whose digests and sizes add up', () => {
    expect(JSON.parse(readFileSync(join(image, 'oci-layout'), 'utf8'))).toEqual({imageLayoutVersion: '1.0.0'})
    const top = JSON.parse(readFileSync(join(image, 'index.json'), 'utf8'))
    expect(top.manifests).toHaveLength(1)
    expect(top.manifests[0]).toMatchObject({mediaType: 'application/vnd.oci.image.index.v1+json', annotations: {'io.containerd.image.name': `localhost/nodedoc:${pjson.version}`}})
    // every blob is named by its own digest and has the size its descriptor says
    for (const name of readdirSync(join(image, 'blobs', 'sha256'))) expect(sha256(join(image, 'blobs', 'sha256', name))).toBe(name)
    const descriptors: Descriptor[] = [top.manifests[0], ...readBlob(top.manifests[0]).manifests]
    for (const arch of ['amd64', 'arm64']) descriptors.push(manifests[arch].config, ...manifests[arch].layers)
    for (const d of descriptors) expect(statSync(blobPath(d.digest)).size, d.digest).toBe(d.size)
    expect(Object.keys(manifests).sort()).toEqual(['amd64', 'arm64'])
    for (const arch of ['amd64', 'arm64']) {
      expect(manifests[arch].layers).toHaveLength(1)
      expect(manifests[arch].layers[0].mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip')
      expect(configs[arch]).toMatchObject({architecture: arch, os: 'linux'})
      expect(configs[arch].config.Entrypoint).toEqual(['/usr/local/bin/nodedoc'])
      expect(configs[arch].config.Env).toContain('NODEDOC_HOST_ROOT=/host')
      expect(configs[arch].config.Labels['org.opencontainers.image.version']).toBe(pjson.version)
    }
  })

  it("names each layer in its config by the uncompressed tar's digest", async () => {
    for (const arch of ['amd64', 'arm64']) {
      const tar = await execa('sh', ['-c', 'gzip -dc "$1" | sha256sum', 'sh', blobPath(manifests[arch].layers[0].digest)])
      expect(configs[arch].rootfs.diff_ids).toEqual([`sha256:${tar.stdout.split(' ')[0]}`])
    }
  })

  it("carries docker's manifest.json for this machine's architecture", () => {
    const docker = JSON.parse(readFileSync(join(image, 'manifest.json'), 'utf8'))
    expect(docker).toEqual([{Config: `blobs/sha256/${manifests[NATIVE].config.digest.slice(7)}`, RepoTags: [`localhost/nodedoc:${pjson.version}`], Layers: [`blobs/sha256/${manifests[NATIVE].layers[0].digest.slice(7)}`]}])
  })

  it('holds the executable and Debian packages, and no shell, package manager or node_modules', () => {
    const loaders = {amd64: 'lib64/ld-linux-x86-64.so.2', arm64: 'lib/ld-linux-aarch64.so.1'} as Record<string, string>
    for (const arch of ['amd64', 'arm64']) {
      const root = rootfs[arch]
      const exe = join(root, 'usr/local/bin/nodedoc')
      expect(statSync(exe).mode & 0o111).not.toBe(0)
      expect(readFileSync(exe).subarray(18, 20).readUInt16LE(0), `${arch} ELF machine`).toBe(arch === 'arm64' ? 183 : 62)
      for (const path of ['usr/sbin/iptables-nft-save', 'usr/sbin/iptables-legacy-save', 'usr/sbin/nft', 'bin/ip', 'usr/bin/nsenter', 'bin/mount', 'sbin/ipvsadm', loaders[arch], 'host']) {
        expect(existsSync(join(root, path)), `${arch}: ${path}`).toBe(true)
      }
      expect(existsSync(join(root, 'usr/share/doc/iptables/copyright'))).toBe(true)
      for (const absent of ['bin/sh', 'bin/dash', 'bin/bash', 'usr/bin/apt-get', 'usr/bin/dpkg', 'usr/bin/node', 'node_modules']) {
        expect(existsSync(join(root, absent)), `${arch}: ${absent}`).toBe(false)
      }
    }
    expect(existsSync(join(rootfs[NATIVE], 'etc/ld.so.cache'))).toBe(true)
  })

  it('says its size per architecture, and stays small', () => {
    const sizes = Object.fromEntries([...output.matchAll(/linux\/(\w+) ([\d.]+) MiB/g)].map((m) => [m[1], Number(m[2])]))
    for (const arch of ['amd64', 'arm64']) {
      expect(sizes[arch]).toBeCloseTo(manifests[arch].layers[0].size / 1024 / 1024, 0)
      // the executable (Node and the bundle) is most of it; the tools add a few MiB
      expect(sizes[arch]).toBeLessThan(80)
    }
  })

  it('runs nodedoc and every tool it calls inside its own root', async () => {
    const version = await inImage(['nodedoc', '--version'])
    expect(version.exitCode, version.stderr).toBe(0)
    expect(version.stdout).toMatch(new RegExp(`^nodedoc/${pjson.version.replace(/\./g, '\\.')} linux-x64`))
    const tools: Array<[string[], RegExp]> = [
      [['iptables-nft-save', '--version'], /nf_tables/],
      [['iptables-legacy-save', '--version'], /legacy/],
      [['iptables', '--version'], /nf_tables/],
      [['nft', '--version'], /^nftables v/],
      [['ip', '-j', 'link', 'show', 'lo'], /"ifname":"lo"/],
      [['nsenter', '--version'], /util-linux/],
    ]
    for (const [argv, expected] of tools) {
      const result = await inImage(argv)
      expect(result.exitCode, `${argv.join(' ')}: ${result.stderr}`).toBe(0)
      expect(result.stdout, argv.join(' ')).toMatch(expected)
    }
    // ipvsadm asks the kernel first: without the ip_vs module it can only say so, which shows it loaded
    const ipvsadm = await inImage(['ipvsadm', '--version'])
    expect(`${ipvsadm.stdout}${ipvsadm.stderr}`).toMatch(/ipvsadm v|Can't initialize ipvs/)
    expect(ipvsadm.stderr).not.toMatch(/error while loading shared libraries/)
  })

  it('answers from a snapshot as the checkout does', async () => {
    const snap = join(rootfs[NATIVE], 'tmp', 'snap')
    const taken = await nodedoc(['snapshot', '-o', join(dir, 'snap')])
    expect(taken.exitCode, taken.stderr).toBe(0)
    cpSync(join(dir, 'snap'), snap, {recursive: true, verbatimSymlinks: true})
    const inside = await inImage(['nodedoc', 'ps', '-A', '--from', '/tmp/snap', '-o', 'json'])
    const outside = await nodedoc(['ps', '-A', '--from', join(dir, 'snap'), '-o', 'json'], SAME_BUILD)
    expect(inside.exitCode, inside.stderr).toBe(0)
    expect(JSON.parse(inside.stdout)).toEqual(JSON.parse(outside.stdout))
    // a bare chroot has no /proc: one line that says so, not "no meta.json"
    const env = Object.fromEntries(configs[NATIVE].config.Env.map((e: string) => e.split(/=(.*)/s).slice(0, 2)))
    const bare = await execa('chroot', [rootfs[NATIVE], 'nodedoc', 'ps', '-A', '--from', '/tmp/snap'], {reject: false, extendEnv: false, env, stdin: 'ignore'})
    expect(bare.exitCode).not.toBe(0)
    expect(bare.stderr.trim().split('\n')).toEqual([expect.stringContaining('/proc is not mounted here')])
  })
})
