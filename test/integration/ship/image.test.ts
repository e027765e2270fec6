// The OCI image from `npm run build:image`, checked without a container runtime: the docker-save
// layout and digests as an importer reads them, and the root filesystem run with chroot on this
// kernel (nodedoc and every tool it calls start, with nothing from the host). Running it as a
// pod in containerd is test/e2e/ship-image.test.ts.
import {createHash} from 'node:crypto'
import {cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {REPO, nodedoc} from './helpers.js'

const pjson = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'))
// compare with the bundle the executable was built from, not a dist/ someone recompiled since
const SAME_BUILD = {NODEDOC_BUNDLE: '1'}
let dir: string
let image: string
let rootfs: string
let manifest: Array<{Config: string; RepoTags: string[]; Layers: string[]}>

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex')

/** A program inside the image's root, with the image's environment and nothing else. */
function inImage(argv: string[]) {
  const config = JSON.parse(readFileSync(join(image, manifest[0].Config), 'utf8'))
  const env = Object.fromEntries(config.config.Env.map((e: string) => e.split(/=(.*)/s).slice(0, 2)))
  return execa('chroot', [rootfs, ...argv], {reject: false, extendEnv: false, env, stdin: 'ignore'})
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nodedoc-image-'))
  const built = await execa(process.execPath, [join(REPO, 'scripts', 'build-image.mjs')], {cwd: REPO, reject: false})
  expect(built.exitCode, built.stderr).toBe(0)
  const tar = built.stdout.match(/image: (\S+)/)![1]
  image = join(dir, 'image')
  rootfs = join(dir, 'rootfs')
  mkdirSync(image)
  mkdirSync(rootfs)
  await execa('tar', ['-xf', tar, '-C', image])
  manifest = JSON.parse(readFileSync(join(image, 'manifest.json'), 'utf8'))
  await execa('tar', ['-xf', join(image, manifest[0].Layers[0]), '-C', rootfs])
}, 600_000)

afterAll(() => {
  if (dir) rmSync(dir, {recursive: true, force: true})
})

describe('nodedoc image', () => {
  it('is one docker-save image whose digests add up', () => {
    expect(manifest).toHaveLength(1)
    expect(manifest[0].RepoTags).toEqual([`localhost/nodedoc:${pjson.version}`])
    expect(manifest[0].Layers).toHaveLength(1)
    const configFile = join(image, manifest[0].Config)
    expect(`${sha256(configFile)}.json`).toBe(manifest[0].Config)
    const config = JSON.parse(readFileSync(configFile, 'utf8'))
    expect(config).toMatchObject({architecture: 'amd64', os: 'linux', rootfs: {type: 'layers', diff_ids: [`sha256:${sha256(join(image, manifest[0].Layers[0]))}`]}})
    expect(config.config.Entrypoint).toEqual(['/usr/local/bin/nodedoc'])
    expect(config.config.Env).toContain('NODEDOC_HOST_ROOT=/host')
    expect(config.config.Labels['org.opencontainers.image.version']).toBe(pjson.version)
  })

  it('holds the executable and Debian packages, nothing from node_modules', () => {
    const exe = statSync(join(rootfs, 'usr/local/bin/nodedoc'))
    expect(exe.mode & 0o111).not.toBe(0)
    for (const path of ['usr/sbin/iptables-nft-save', 'usr/sbin/iptables-legacy-save', 'usr/sbin/nft', 'bin/ip', 'usr/bin/nsenter', 'bin/mount', 'sbin/ipvsadm', 'lib64/ld-linux-x86-64.so.2', 'etc/ld.so.cache', 'host']) {
      expect(existsSync(join(rootfs, path)), path).toBe(true)
    }
    expect(existsSync(join(rootfs, 'usr/share/doc/iptables/copyright'))).toBe(true)
    expect(existsSync(join(rootfs, 'usr/bin/node'))).toBe(false)
    expect(existsSync(join(rootfs, 'node_modules'))).toBe(false)
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
      // deploy/daemonset.yaml and job.yaml run doctor through sh and hold the pod with sleep
      [['sh', '-c', 'nodedoc --version >/dev/null && sleep 0 && echo ran'], /^ran$/],
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
    const snap = join(rootfs, 'tmp', 'snap')
    const taken = await nodedoc(['snapshot', '-o', join(dir, 'snap')])
    expect(taken.exitCode, taken.stderr).toBe(0)
    cpSync(join(dir, 'snap'), snap, {recursive: true, verbatimSymlinks: true})
    const inside = await inImage(['nodedoc', 'ps', '-A', '--from', '/tmp/snap', '-o', 'json'])
    const outside = await nodedoc(['ps', '-A', '--from', join(dir, 'snap'), '-o', 'json'], SAME_BUILD)
    expect(inside.exitCode, inside.stderr).toBe(0)
    expect(JSON.parse(inside.stdout)).toEqual(JSON.parse(outside.stdout))
  })
})
