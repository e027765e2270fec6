// What a user gets from `npm install -g` of the packed tarball: the bundled CLI on PATH and
// nothing else from the registry, help that lists every command with examples, "did you mean",
// completion, no colour when piped, the kubectl plugin entry point, and an install folder that
// nodedoc never writes to. And what the tarball holds: the bundle with the caches the build
// trained, whatever ran in the checkout before packing, and no tests or sources.
import {createHash} from 'node:crypto'
import {mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {REPO} from './helpers.js'

let dir: string
let prefix: string
let ids: string[]
let tarball: string
let installLog: string

/** Every file under a folder with its size, mode, time and digest: what "nothing written" is checked against. */
function inventory(root: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (d: string) => {
    for (const e of readdirSync(d, {withFileTypes: true})) {
      const path = join(d, e.name)
      if (e.isDirectory()) walk(path)
      else {
        const st = statSync(path)
        out[path.slice(root.length)] = `${st.size} ${st.mode} ${st.mtimeMs} ${createHash('sha256').update(readFileSync(path)).digest('hex')}`
      }
    }
  }
  walk(root)
  return out
}

async function tarballFiles(file: string): Promise<Record<string, string>> {
  const unpacked = mkdtempSync(join(dir, 'unpacked-'))
  await execa('tar', ['-xzf', file, '-C', unpacked])
  const files = Object.fromEntries(Object.entries(inventory(unpacked)).map(([path, line]) => [path, line.split(' ').at(-1)!]))
  rmSync(unpacked, {recursive: true, force: true})
  return files
}

function installed(bin: string, args: string[], env: Record<string, string> = {}) {
  // node stays on PATH (an npm install needs it); nothing else from the checkout does
  return execa(join(prefix, 'bin', bin), args, {
    reject: false,
    cwd: dir,
    stdin: 'ignore',
    extendEnv: false,
    env: {PATH: `${join(dir, 'fake-bin')}:${dirname(process.execPath)}:/usr/bin:/bin`, HOME: dir, ...env},
  })
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nodedoc-pack-'))
  prefix = join(dir, 'prefix')
  mkdirSync(join(dir, 'fake-bin'))
  // the tarball packs the bundle `npm test` just built; bundle again in case dist/ is newer
  await execa(process.execPath, [join(REPO, 'scripts', 'build-bundle.mjs')], {cwd: REPO})
  const packed = await execa('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], {cwd: REPO})
  tarball = join(dir, readdirSync(dir).find((f) => f.endsWith('.tgz'))!)
  expect(packed.stdout.trim().split('\n').at(-1)).toBe(tarball.split('/').at(-1))
  const install = await execa('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', '--prefer-offline', tarball], {cwd: dir, reject: false})
  expect(install.exitCode, install.stderr).toBe(0)
  installLog = `${install.stdout}\n${install.stderr}`
  const {COMMANDS} = await import(join(REPO, 'dist', 'commands', 'index.js'))
  // hidden commands (internal helpers) are neither listed nor documented
  ids = Object.keys(COMMANDS).filter((id) => !COMMANDS[id].hidden)
}, 300_000)

afterAll(() => {
  if (dir) rmSync(dir, {recursive: true, force: true})
})

describe('the packed tarball', () => {
  it('holds the launcher, the bundle and its trained caches, docs and deploy/, and no tests, sources or node_modules', async () => {
    const files = Object.keys(await tarballFiles(tarball)).map((f) => f.replace(/^\/package\//, ''))
    for (const needed of ['bin/run.js', 'bin/kubectl-nodedoc', 'dist/nodedoc.cjs', 'dist/nodedoc/pod.cjs', 'dist/nodedoc/direct.cjs', 'LICENSE', 'CHANGELOG.md', 'README.md', 'package.json', 'deploy/daemonset.yaml', 'docs/privileges.md']) {
      expect(files, needed).toContain(needed)
    }
    expect(files.some((f) => /\.v8cache$/.test(f))).toBe(true)
    for (const f of files) expect(f, f).not.toMatch(/^(test|src|commands|scripts|examples|bench|node_modules)\/|fixtures|\.ts$/)
  })

  it('asks the registry for nothing: no dependencies, no install scripts', () => {
    const pjson = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'))
    expect(pjson.dependencies ?? {}).toEqual({})
    expect(Object.keys(pjson.scripts ?? {}).filter((s) => /^(pre|post)?install$/.test(s))).toEqual([])
    expect(readdirSync(join(prefix, 'lib', 'node_modules'))).toEqual(['nodedoc'])
    expect(readdirSync(join(prefix, 'lib', 'node_modules', 'nodedoc'))).not.toContain('node_modules')
    expect(installLog).toMatch(/added 1 package/)
    for (const field of ['repository', 'homepage', 'bugs', 'keywords', 'license']) expect(pjson[field], field).toBeTruthy()
  })

  it('carries the same code caches whatever ran in the checkout before packing', async () => {
    const before = await tarballFiles(tarball)
    // commands the build's training does not run: before, their first run left a cache behind
    for (const args of [['svc', '--help'], ['sandbox', 'ls', '--help'], ['report', '--help'], ['doctor', '--from', join(REPO, 'examples', 'containerd-node')]]) {
      await execa(process.execPath, [join(REPO, 'bin', 'run.js'), ...args], {reject: false, cwd: REPO, env: {NODEDOC_BUNDLE: '1'}})
    }
    const again = mkdtempSync(join(dir, 'again-'))
    await execa('npm', ['pack', '--ignore-scripts', '--pack-destination', again], {cwd: REPO})
    const after = await tarballFiles(join(again, readdirSync(again)[0]))
    expect(Object.keys(after).filter((f) => f.endsWith('.v8cache')).sort()).toEqual(Object.keys(before).filter((f) => f.endsWith('.v8cache')).sort())
    expect(after).toEqual(before)
  })
})

describe('npm install -g of the packed tarball', () => {
  it('writes nothing into its install folder, whatever it runs', async () => {
    const folder = join(prefix, 'lib', 'node_modules', 'nodedoc')
    const before = inventory(folder)
    for (const args of [['--version'], ['svc', '--help'], ['report', '--help'], ['pod', '--help'], ['ps', '--from', join(REPO, 'examples', 'containerd-node')], ['pod', 'core-k8s', '--from', join(REPO, 'examples', 'containerd-node'), '-o', 'yaml']]) {
      const result = await installed('nodedoc', args)
      expect(result.exitCode, `${args.join(' ')}: ${result.stderr}`).toBe(0)
    }
    expect(inventory(folder)).toEqual(before)
  })

  it('runs the bundle, not the sources', async () => {
    const files = readdirSync(join(prefix, 'lib', 'node_modules', 'nodedoc', 'dist'))
    expect(files).toContain('nodedoc.cjs')
    expect(files).not.toContain('src')
    const result = await installed('nodedoc', ['--version'])
    expect(result.exitCode, result.stderr).toBe(0)
    expect(result.stdout).toMatch(/^nodedoc\/\d+\.\d+\.\d+ linux-x64 node-v/)
  })

  it('lists every command in --help, each with examples, without colour when piped', async () => {
    const root = await installed('nodedoc', ['--help'])
    expect(root.exitCode).toBe(0)
    expect(root.stdout).not.toMatch(/\x1b\[/)
    for (const topic of new Set(ids.map((id) => id.split(':')[0]))) expect(root.stdout).toMatch(new RegExp(`^  ${topic}\\s`, 'm'))
    const missing: string[] = []
    for (const id of ids) {
      const help = await installed('nodedoc', [...id.split(':'), '--help'])
      expect(help.exitCode, `${id}: ${help.stderr}`).toBe(0)
      expect(help.stdout).not.toMatch(/\x1b\[/)
      if (!/^EXAMPLES$/m.test(help.stdout)) missing.push(id)
    }
    expect(missing, 'commands whose help has no EXAMPLES').toEqual([])
  })

  it('suggests the closest command for a typo', async () => {
    const result = await installed('nodedoc', ['reprot'])
    expect(result.exitCode).toBe(127)
    expect(result.stderr).toContain('reprot is not a nodedoc command')
  })

  it('prints shell completion setup', async () => {
    const result = await installed('nodedoc', ['autocomplete', 'bash'])
    expect(result.exitCode, result.stderr).toBe(0)
    expect(result.stdout).toContain('nodedoc autocomplete')
    const script = await installed('nodedoc', ['autocomplete', 'script', 'bash'])
    expect(script.stdout).toMatch(/NODEDOC_AC_BASH_SETUP_PATH/)
  })

  it('is a kubectl plugin that runs nodedoc in a debug pod and deletes it', async () => {
    // kubectl itself is not here: a stand-in records each call and answers like a cluster would
    const log = join(dir, 'kubectl.log')
    writeFileSync(join(dir, 'fake-bin', 'kubectl'), [
      '#!/bin/sh',
      `echo "$*" >> ${log}`,
      'case "$1" in',
      '  create) cat > /dev/null; echo pod/created ;;',
      '  logs) echo "NAME   UID   QOS" ; echo "core-k8s   1234   Burstable" ;;',
      '  get) echo 3 ;;',
      'esac',
    ].join('\n'), {mode: 0o755})
    const result = await installed('kubectl-nodedoc', ['worker-1', '--', 'pod', 'core-k8s'])
    expect(result.stdout).toBe('NAME   UID   QOS\ncore-k8s   1234   Burstable')
    expect(result.exitCode).toBe(3)
    const calls = (await execa('cat', [log])).stdout.split('\n').map((l) => l.split(' ')[0])
    expect(calls).toEqual(['create', 'logs', 'get', 'delete'])
    const dry = await installed('kubectl-nodedoc', ['worker-1', '--dry-run', '--', 'doctor'])
    expect(dry.exitCode, dry.stderr).toBe(0)
    expect(dry.stdout).toMatch(/^ {6}command:\n {8}- nodedoc\n {8}- doctor\n {8}- --host-root\n {8}- \/host$/m)
  })
})
