// The single executables (npm run build:bin) on a machine without Node.js: this machine's, copied
// alone into an empty folder and run with a PATH that holds no node, must answer exactly as the
// CLI from the checkout does on the same snapshot, and act as kubectl's plugin when named so; the
// other architecture's is checked for what it is (an AArch64 ELF carrying the blob), as it
// cannot run here.
import {copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {REPO, exampleSnapshots, firstPodArgs, nodedoc} from './helpers.js'

const pjson = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'))
// compare with the bundle the executable was built from, not a dist/ someone recompiled since
const SAME_BUILD = {NODEDOC_BUNDLE: '1'}
let dir: string
let exe: string
let snapshot: string
let built: Record<string, string>
// the ELF header's machine field: 62 x86-64, 183 AArch64
const elfMachine = (file: string) => {
  const head = readFileSync(file).subarray(0, 20)
  return head.readUInt32BE(0) === 0x7f454c46 ? head.readUInt16LE(18) : undefined
}

/** The executable with nothing around it: no node on PATH, no node_modules, an empty HOME. */
function alone(args: string[], env: Record<string, string> = {}) {
  return execa(exe, args, {reject: false, cwd: dir, extendEnv: false, env: {PATH: join(dir, 'empty-bin'), HOME: dir, NO_COLOR: '1', ...env}, stdin: 'ignore'})
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nodedoc-sea-'))
  mkdirSync(join(dir, 'empty-bin'))
  const build = await execa(process.execPath, [join(REPO, 'scripts', 'build-bin.mjs')], {cwd: REPO, reject: false})
  expect(build.exitCode, build.stderr).toBe(0)
  built = Object.fromEntries([...build.stdout.matchAll(/single executable: (\S+) \(linux\/(\w+), Node ([\d.]+)/g)].map((m) => [m[2], m[1]]))
  expect(Object.keys(built).sort()).toEqual(['amd64', 'arm64'])
  const output = built[process.arch === 'arm64' ? 'arm64' : 'amd64']
  expect(existsSync(output)).toBe(true)
  exe = join(dir, 'nodedoc')
  copyFileSync(output, exe)
  await execa('chmod', ['755', exe])
  // a small real snapshot of this machine, taken by the checkout's CLI
  snapshot = join(dir, 'snap')
  const taken = await nodedoc(['snapshot', '-o', snapshot])
  expect(taken.exitCode, taken.stderr).toBe(0)
}, 240_000)

afterAll(() => {
  if (dir) rmSync(dir, {recursive: true, force: true})
})

describe('single executable', () => {
  it('has no node to lean on', async () => {
    const which = await execa('/bin/sh', ['-c', 'command -v node || echo none'], {extendEnv: false, env: {PATH: join(dir, 'empty-bin')}, reject: false})
    expect(which.stdout.trim()).toBe('none')
    expect(existsSync(join(dir, 'node_modules'))).toBe(false)
  })

  it('answers --version with the package version, on a supported Node LTS (not this machine\'s Node 20)', async () => {
    const result = await alone(['--version'])
    expect(result.stderr).toBe('')
    expect(result.exitCode).toBe(0)
    const [, major] = result.stdout.match(new RegExp(`^nodedoc/${pjson.version.replace(/\./g, '\\.')} linux-x64 node-v(\\d+)\\.`))!
    expect(Number(major) % 2, 'an even (LTS) line').toBe(0)
    expect(Number(major)).toBeGreaterThanOrEqual(22)
  })

  it('is built for linux/arm64 too: an AArch64 executable carrying the same blob', () => {
    expect(elfMachine(exe)).toBe(process.arch === 'arm64' ? 183 : 62)
    const other = built[process.arch === 'arm64' ? 'amd64' : 'arm64']
    expect(elfMachine(other)).toBe(process.arch === 'arm64' ? 62 : 183)
    const bytes = readFileSync(other)
    // postject flipped the fuse, and the blob holds the launcher and the bundle's files
    expect(bytes.includes('NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2:1')).toBe(true)
    expect(bytes.includes('nodedoc/pod.cjs')).toBe(true)
    expect(bytes.includes('nodedoc-build ')).toBe(true)
  })

  it('acts as the kubectl plugin when its name is kubectl-nodedoc', async () => {
    const plugin = join(dir, 'kubectl-nodedoc')
    copyFileSync(exe, plugin)
    try {
      await execa('chmod', ['755', plugin])
      const dry = await execa(plugin, ['worker-1', '--dry-run', '--', 'doctor'], {reject: false, cwd: dir, extendEnv: false, env: {PATH: join(dir, 'empty-bin'), HOME: dir, NO_COLOR: '1'}, stdin: 'ignore'})
      expect(dry.exitCode, dry.stderr).toBe(0)
      expect(dry.stdout).toMatch(/^ {6}command:\n {8}- nodedoc\n {8}- doctor\n {8}- --host-root\n {8}- \/host$/m)
      expect(dry.stdout).toContain('nodeName: worker-1')
    } finally {
      rmSync(plugin, {force: true})
    }
  })

  it('lists every registered command in --help', async () => {
    const {COMMANDS} = await import(join(REPO, 'dist', 'commands', 'index.js'))
    const result = await alone(['--help'])
    expect(result.exitCode).toBe(0)
    const topics = new Set(Object.keys(COMMANDS).filter((id) => !COMMANDS[id].hidden).map((id) => id.split(':')[0]))
    for (const topic of topics) expect(result.stdout).toMatch(new RegExp(`^  ${topic}\\b`, 'm'))
    expect(result.stdout).not.toMatch(/\x1b\[/)
  })

  it('reads a snapshot with --from exactly as the checkout does', async () => {
    const fromSea = await alone(['ps', '-A', '--from', snapshot, '-o', 'json'])
    const fromCheckout = await nodedoc(['ps', '-A', '--from', snapshot, '-o', 'json'], SAME_BUILD)
    expect(fromSea.exitCode, fromSea.stderr).toBe(0)
    expect(JSON.parse(fromSea.stdout)).toEqual(JSON.parse(fromCheckout.stdout))
    expect(JSON.parse(fromSea.stdout).items.length).toBeGreaterThan(0)
  })

  it('runs pod --from on the example snapshots', async () => {
    const examples = exampleSnapshots()
    if (examples.length === 0) console.warn('examples/ has no snapshot yet: pod --from checked on the test snapshot only')
    for (const source of [...examples, snapshot]) {
      const ps = await alone(['ps', '--from', source, '-o', 'json'])
      const podArgs = firstPodArgs(ps.stdout)
      if (!podArgs) continue
      const fromSea = await alone(['pod', ...podArgs, '--from', source, '-o', 'json'])
      const fromCheckout = await nodedoc(['pod', ...podArgs, '--from', source, '-o', 'json'], SAME_BUILD)
      expect(fromSea.exitCode, fromSea.stderr).toBe(0)
      expect(JSON.parse(fromSea.stdout)).toEqual(JSON.parse(fromCheckout.stdout))
      // the launcher's direct path (no oclif) and oclif's start, inside the executable: the same bytes
      for (const output of ['table', 'yaml']) {
        const direct = await alone(['pod', ...podArgs, '--from', source, '-o', output])
        const oclif = await alone(['pod', ...podArgs, '--from', source, '-o', output], {NODEDOC_DIRECT: '0'})
        expect(direct.exitCode, direct.stderr).toBe(0)
        expect([direct.stdout, direct.stderr]).toEqual([oclif.stdout, oclif.stderr])
      }
    }
  })

  it('loads a command and a library from inside itself, and writes nothing beside itself', async () => {
    const help = await alone(['pod', '--help'])
    expect(help.exitCode, help.stderr).toBe(0)
    const typo = await alone(['pdo']) // the "did you mean" hook lives in a file of its own
    expect(typo.exitCode).toBe(127)
    expect(typo.stderr).toContain('pdo is not a nodedoc command')
    const asYaml = await alone(['ps', '-A', '--from', snapshot, '-o', 'yaml']) // yaml is a library file of its own
    expect(asYaml.exitCode, asYaml.stderr).toBe(0)
    expect(asYaml.stdout).toMatch(/^items:\n {2}- pid: \d+$/m)
    // no code caches or anything else written next to it: it must not change the node it inspects
    expect(readdirSync(dir).sort()).toEqual(['empty-bin', 'nodedoc', 'snap'])
  })

  it('says what is wrong with a bad --from in one line', async () => {
    const result = await alone(['ps', '--from', join(dir, 'no-such-snapshot')])
    expect(result.exitCode).not.toBe(0)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(result.stderr).toContain('no-such-snapshot')
  })
})
