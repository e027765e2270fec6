// The split bundle `npm run build` makes: a run reads the launcher's part and the files of what
// it uses, nothing more, and each file gets its V8 code cache.
import {closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, relative} from 'node:path'
import {spawnSync} from 'node:child_process'
import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {REPO, RUN, exampleSnapshots, writeReadsPreload} from './helpers.js'

let dir: string
let preload: string
const snapshot = exampleSnapshots()[0]

/** Runs nodedoc from the checkout's bundle; returns its output and every bundle file it read. */
async function traced(args: string[]) {
  const log = join(dir, `reads-${Math.random().toString(36).slice(2)}`)
  const result = await execa(process.execPath, ['--require', preload, RUN, ...args], {reject: false, env: {NO_COLOR: '1', NODEDOC_BUNDLE: '1', READS_LOG: log}, stdin: 'ignore'})
  let reads: string[] = []
  try {
    reads = (await execa('cat', [log])).stdout.split('\n').filter(Boolean)
  } catch {}
  const bundleFiles = [...new Set(reads.filter((p) => p.includes('/dist/nodedoc')).map((p) => relative(join(REPO, 'dist'), p)))]
  return {...result, bundleFiles: bundleFiles.filter((f) => !f.endsWith('.v8cache')).sort(), caches: bundleFiles.filter((f) => f.endsWith('.v8cache')).sort()}
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'nodedoc-bundle-'))
  preload = writeReadsPreload(dir)
})

afterAll(() => {
  if (dir) rmSync(dir, {recursive: true, force: true})
})

describe('split bundle', () => {
  it('answers --version and --help from the launcher part alone', async () => {
    for (const args of [['--version'], ['--help'], ['pod', '--help']]) {
      const result = await traced(args)
      expect(result.exitCode, result.stderr).toBe(0)
      expect(result.bundleFiles, args.join(' ')).toEqual(['nodedoc.cjs'])
    }
  })

  it.skipIf(!snapshot)('loads a command from its own file, and a library only when the run needs it', async () => {
    const table = await traced(['pod', 'core-k8s', '--from', snapshot!])
    expect(table.exitCode, table.stderr).toBe(0)
    expect(table.stdout).toMatch(/^Pod:\s+default\/core-k8s$/m)
    // `pod NAME` takes the launcher's direct path (src/cli/direct.ts): its own file, no oclif
    expect(table.bundleFiles).toEqual(['nodedoc/direct.cjs'])
    const yaml = await traced(['pod', 'core-k8s', '--from', snapshot!, '-o', 'yaml'])
    expect(yaml.stdout).toMatch(/^name: core-k8s$/m)
    expect(yaml.bundleFiles).toEqual(['nodedoc/direct.cjs', 'nodedoc/vendor-yaml.cjs'])
    // so does `ps` (src/cli/direct-ps.ts)
    const ps = await traced(['ps', '--from', snapshot!])
    expect(ps.exitCode, ps.stderr).toBe(0)
    expect(ps.bundleFiles).toEqual(['nodedoc/direct-ps.cjs'])
    // a command with no direct path: oclif's start, then that command's own file
    const pods = await traced(['pods', '--from', snapshot!])
    expect(pods.exitCode, pods.stderr).toBe(0)
    expect(pods.stdout).toMatch(/core-k8s/)
    expect(pods.bundleFiles).toEqual(['nodedoc.cjs', 'nodedoc/pods.cjs'])
  })

  it.skipIf(!snapshot)('reads a snapshot pod without loading Node\'s modules for programs, terminals, sockets or hashes', async () => {
    const log = join(dir, 'builtins')
    const probe = join(dir, 'builtins.cjs')
    writeFileSync(probe, `process.on('exit', () => require('node:fs').writeFileSync(process.env.BUILTINS_LOG, process.moduleLoadList.join('\\n')))\n`)
    // output to a file, NO_COLOR: nothing needs a terminal's answer; stderr a pipe nobody writes to
    const out = openSync(join(dir, 'pod.txt'), 'w')
    const result = spawnSync(process.execPath, ['--require', probe, RUN, 'pod', 'core-k8s', '--from', snapshot!], {env: {...process.env, NO_COLOR: '1', NODEDOC_BUNDLE: '1', BUILTINS_LOG: log}, stdio: ['ignore', out, 'pipe'], encoding: 'utf8'})
    closeSync(out)
    expect(result.status, result.stderr).toBe(0)
    expect(readFileSync(join(dir, 'pod.txt'), 'utf8')).toMatch(/^Pod:\s+default\/core-k8s$/m)
    const builtins = readFileSync(log, 'utf8').split('\n')
    for (const name of ['child_process', 'tty', 'net', 'crypto']) expect(builtins, name).not.toContain(`NativeModule ${name}`)
  })

  it.skipIf(!snapshot)('reads a code cache only under its own file\'s build id', async () => {
    const buildOf = (file: string) => /^\/\/nodedoc-build ([0-9a-f]{16})$/m.exec(readFileSync(join(REPO, 'dist', file), 'latin1').split('\n')[0])?.[1]
    // a cache of some other build beside direct.cjs: same length or not, it must never be read
    const foreign = join(REPO, 'dist', 'nodedoc', 'direct.cjs.0123456789abcdef.v8cache')
    writeFileSync(foreign, 'not a cache')
    try {
      await traced(['pod', 'core-k8s', '--from', snapshot!]) // writes any cache that is missing
      const result = await traced(['pod', 'core-k8s', '--from', snapshot!])
      expect(result.exitCode, result.stderr).toBe(0)
      const expected = ['nodedoc/direct.cjs'].map((f) => `${f}.${buildOf(f)}.v8cache`)
      expect(buildOf('nodedoc/direct.cjs')).toMatch(/^[0-9a-f]{16}$/)
      expect(result.caches).toEqual(expected)
      for (const cache of expected) expect(existsSync(join(REPO, 'dist', cache))).toBe(true)
    } finally {
      rmSync(foreign, {force: true})
    }
  })

  // the launcher's direct path takes it (src/cli/direct-sandbox.ts): its own file, no oclif
  it('plans a sandbox create (--dry-run) from its own file and the code cache the build trained, and makes nothing', async () => {
    const buildOf = (file: string) => /^\/\/nodedoc-build ([0-9a-f]{16})$/m.exec(readFileSync(join(REPO, 'dist', file), 'latin1').split('\n')[0])?.[1]
    const cache = `nodedoc/direct-sandbox.cjs.${buildOf('nodedoc/direct-sandbox.cjs')}.v8cache`
    // made by `npm run build` (this test's runs write none)
    expect(existsSync(join(REPO, 'dist', cache))).toBe(true)
    const name = `nodedoc-bundle-${process.pid}`
    const manifest = join(dir, 'pod.yaml')
    writeFileSync(manifest, `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  containers:\n  - {name: main, image: busybox, command: [sleep, '60']}\n`)
    const result = await traced(['sandbox', 'create', '-f', manifest, '--dry-run'])
    expect(result.exitCode, result.stderr).toBe(0)
    expect(result.stderr).toMatch(new RegExp(`^\\[1\\] state\\.dir .*\\n {4}\\$ mkdir /run/nodedoc/sandboxes/${name}$`, 'm'))
    expect(result.bundleFiles).toContain('nodedoc/direct-sandbox.cjs')
    expect(result.caches).toContain(cache)
    expect(existsSync(`/run/nodedoc/sandboxes/${name}`)).toBe(false)
  })

  it('runs a command that starts programs through the vendor copy of execa', async () => {
    const result = await traced(['net', '-o', 'json'])
    expect(result.exitCode, result.stderr).toBe(0)
    expect(JSON.parse(result.stdout)).toHaveProperty('routes')
    expect(result.bundleFiles).toContain('nodedoc/vendor-execa.cjs')
  })

  it('suggests a command for a typo through the lazily loaded not-found hook', async () => {
    const result = await traced(['pdo'])
    expect(result.exitCode).toBe(127)
    expect(result.stderr).toContain('pdo is not a nodedoc command')
    expect(result.bundleFiles).toEqual(['nodedoc.cjs', 'nodedoc/command_not_found.cjs'])
  })
})
