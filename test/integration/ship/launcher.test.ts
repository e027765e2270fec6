// bin/run.js runs the bundle when it was made from the tsc output that is in dist/ now, decided
// by build id: `npm run build:bin` after `npm run build`, and tsc run again over the same sources,
// keep the bundle; a tsc build the bundle was not made from runs as compiled (plain oclif).
import {readFileSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {REPO, RUN} from './helpers.js'

let dir: string
let preload: string
const BUILD_INFO = join(REPO, 'dist', 'tsconfig.tsbuildinfo')

/** `nodedoc --version` as a user runs it; which way it started: the bundle, or oclif from node_modules. */
async function started(): Promise<'bundle' | 'tsc output'> {
  const log = join(dir, `modules-${Math.random().toString(36).slice(2)}`)
  const result = await execa(process.execPath, ['--require', preload, RUN, '--version'], {reject: false, env: {NODEDOC_BUNDLE: '', MODULES_LOG: log}, stdin: 'ignore'})
  expect(result.exitCode, result.stderr).toBe(0)
  expect(result.stdout).toMatch(/^nodedoc\/\d+\.\d+\.\d+ /)
  const modules = readFileSync(log, 'utf8')
  // plain oclif is required from node_modules; the bundle carries its own copy
  return modules.includes('/node_modules/@oclif/core/') ? 'tsc output' : 'bundle'
}

const npm = (args: string[]) => execa('npm', args, {cwd: REPO, reject: false, env: {NODEDOC_BUNDLE: ''}})

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nodedoc-launcher-'))
  preload = join(dir, 'modules.cjs')
  // at exit, every CommonJS module the run loaded
  writeFileSync(preload, `process.on('exit', () => require('node:fs').writeFileSync(process.env.MODULES_LOG, Object.keys(require.cache).join('\\n')))\n`)
  const build = await npm(['run', 'build'])
  expect(build.exitCode, build.stderr).toBe(0)
}, 600_000)

afterAll(() => {
  if (dir) rmSync(dir, {recursive: true, force: true})
})

describe('launcher', () => {
  it('knows the build without hashing while the build info is the very file the bundle was made from', async () => {
    const log = join(dir, 'builtins')
    const probe = join(dir, 'builtins.cjs')
    writeFileSync(probe, `process.on('exit', () => require('node:fs').writeFileSync(process.env.BUILTINS_LOG, process.moduleLoadList.join('\\n')))\n`)
    const result = await execa(process.execPath, ['--require', probe, RUN, '--version'], {reject: false, env: {NODEDOC_BUNDLE: '', BUILTINS_LOG: log}, stdin: 'ignore'})
    expect(result.exitCode, result.stderr).toBe(0)
    // hashing takes node:crypto, whose loading costs more than the rest of the launcher
    const builtins = readFileSync(log, 'utf8').split('\n')
    expect(builtins).toContain('NativeModule vm')
    expect(builtins).not.toContain('NativeModule crypto')
  })

  it('runs the bundle after `npm run build`, then `npm run build:bin`, then tsc again over the same sources', async () => {
    expect(await started()).toBe('bundle')
    const bin = await npm(['run', 'build:bin', '--', '--arch', process.arch])
    expect(bin.exitCode, bin.stderr).toBe(0)
    expect(await started()).toBe('bundle')
    const tsc = await execa('npx', ['tsc', '-p', '.'], {cwd: REPO, reject: false})
    expect(tsc.exitCode, tsc.stdout).toBe(0)
    expect(await started()).toBe('bundle')
  }, 600_000)

  it('runs the tsc output when it is another build than the bundle was made from', async () => {
    const info = readFileSync(BUILD_INFO)
    try {
      // what a bare `npx tsc -p .` over a changed source leaves: other build info
      writeFileSync(BUILD_INFO, Buffer.concat([info, Buffer.from(' ')]))
      expect(await started()).toBe('tsc output')
    } finally {
      writeFileSync(BUILD_INFO, info)
    }
    expect(await started()).toBe('bundle')
  })
})
