// npm run build:krew: an archive per platform in the manifest, each with its sha256, holding
// kubectl-nodedoc and the LICENSE; this machine's archive unpacked and run as kubectl's plugin.
import {createHash} from 'node:crypto'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {execa} from 'execa'
import {parse} from 'yaml'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {REPO} from './helpers.js'

interface Platform {selector: {matchLabels: {os: string; arch: string}}; uri: string; sha256: string; bin: string; files: Array<{from: string; to: string}>}
const pjson = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'))
let dir: string
let manifest: {apiVersion: string; kind: string; metadata: {name: string}; spec: {version: string; platforms: Platform[]; shortDescription: string; homepage: string}}
let archives: Record<string, string>

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nodedoc-krew-'))
  // executables built from this bundle (by single-executable.test.ts) are reused, stale ones rebuilt
  const built = await execa(process.execPath, [join(REPO, 'scripts', 'build-krew.mjs'), '--no-rebuild'], {cwd: REPO, reject: false, env: {NODEDOC_RELEASE_URL: 'https://example.invalid/nodedoc/v1'}})
  expect(built.exitCode, built.stderr).toBe(0)
  archives = Object.fromEntries([...built.stdout.matchAll(/krew archive: (\S+nodedoc-linux-(\w+)\.tar\.gz) sha256:/g)].map((m) => [m[2], m[1]]))
  manifest = parse(readFileSync(built.stdout.match(/krew manifest: (\S+)/)![1], 'utf8'))
}, 600_000)

afterAll(() => {
  if (dir) rmSync(dir, {recursive: true, force: true})
})

describe('krew manifest and archives', () => {
  it('is a krew Plugin named nodedoc at the package version', () => {
    expect(manifest).toMatchObject({apiVersion: 'krew.googlecontainertools.github.com/v1alpha2', kind: 'Plugin', metadata: {name: 'nodedoc'}, spec: {version: `v${pjson.version}`}})
    expect(manifest.spec.shortDescription.length).toBeLessThanOrEqual(60)
  })

  it('covers linux/amd64 and linux/arm64, each archive matching its sha256 and address', () => {
    const platforms = manifest.spec.platforms.map((p) => `${p.selector.matchLabels.os}/${p.selector.matchLabels.arch}`).sort()
    expect(platforms).toEqual(['linux/amd64', 'linux/arm64'])
    for (const platform of manifest.spec.platforms) {
      const arch = platform.selector.matchLabels.arch
      const archive = archives[arch]
      expect(createHash('sha256').update(readFileSync(archive)).digest('hex')).toBe(platform.sha256)
      expect(platform.uri).toBe(`https://example.invalid/nodedoc/v1/nodedoc-linux-${arch}.tar.gz`)
      expect(platform.bin).toBe('kubectl-nodedoc')
    }
  })

  it('packs kubectl-nodedoc and the LICENSE, the same bytes each time', async () => {
    for (const archive of Object.values(archives)) {
      const listing = await execa('tar', ['-tvzf', archive])
      expect(listing.stdout.split('\n').map((l) => l.split(/\s+/).at(-1)).sort()).toEqual(['LICENSE', 'kubectl-nodedoc'])
      expect(listing.stdout).toMatch(/^-rwxr-xr-x 0\/0 .* kubectl-nodedoc$/m)
    }
    const again = await execa(process.execPath, [join(REPO, 'scripts', 'build-krew.mjs'), '--no-rebuild'], {cwd: REPO, env: {NODEDOC_RELEASE_URL: 'https://example.invalid/nodedoc/v1'}})
    for (const platform of manifest.spec.platforms) expect(again.stdout).toContain(`sha256:${platform.sha256}`)
  }, 300_000)

  it("runs this machine's archive as kubectl's plugin", async () => {
    await execa('tar', ['-xzf', archives[process.arch === 'arm64' ? 'arm64' : 'amd64'], '-C', dir])
    const dry = await execa(join(dir, 'kubectl-nodedoc'), ['worker-2', '--dry-run', '--', 'ps', '-A'], {reject: false, env: {NO_COLOR: '1'}, stdin: 'ignore'})
    expect(dry.exitCode, dry.stderr).toBe(0)
    expect(dry.stdout).toContain('nodeName: worker-2')
    expect(readFileSync(join(dir, 'LICENSE'), 'utf8')).toMatch(/Apache License\s+Version 2\.0/)
  })
})
