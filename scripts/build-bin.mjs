#!/usr/bin/env node
// Builds dist/bin/nodedoc-linux-x64 and dist/bin/nodedoc-linux-arm64: each one file that runs nodedoc on a machine with no Node.js and
// no node_modules (Node's single-executable-application support). Its main script is
// bin/run.js, and its assets are the split bundle's files (scripts/build-bundle.mjs) with V8 code
// caches made here, so it starts the way a checkout does: the launcher part, then only the
// file of the command that runs. The bundle already carries package.json and oclif's manifest:
// see src/ship/launch.ts for how oclif starts from it.
//
// Steps: split bundle -> training runs that leave code caches (trainCodeCaches) -> `node --experimental-sea-config`
// writes a blob with bin/run.js and the assets -> copy of the target's Node binary (Node's own
// release, scripts/sea-node.mjs) -> postject injects the blob and flips the fuse.

import {execFileSync} from 'node:child_process'
import {chmodSync, copyFileSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {buildBundle, trainCodeCaches} from './build-bundle.mjs'
import {SEA_NODE_VERSION, TARGETS, seaNode, target} from './sea-node.mjs'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(join(repo, 'package.json'))
// the fuse string Node's binaries carry; postject flips it so node runs the injected blob
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'
export const executablePath = (arch) => join(repo, 'dist', 'bin', `nodedoc-linux-${target(arch).arch}`)
/** This machine's own: the one tests run for real. */
export const EXECUTABLE = executablePath(process.arch)

/** Runs a build step; its chatter (Node's "Wrote ... blob", LIEF's warnings) shows only when it fails. */
function quiet(file, args) {
  try {
    execFileSync(file, args, {stdio: ['ignore', 'pipe', 'pipe']})
  } catch (error) {
    throw new Error(`${file.split('/').at(-1)} ${args[0]}: ${String(error.stderr || error.stdout || error.message).trim()}`, {cause: error})
  }
}

/**
 * One single executable for arch (x64/amd64 or arm64). The blob is made by Node's own binary of
 * the version the executable carries (the blob's format is that version's), always the x64 one,
 * which runs here. Code caches (V8's, tied to architecture and version) are trained and kept only
 * for the architecture this machine runs; another architecture's executable compiles as it goes.
 */
export async function buildBin({arch = process.arch, output = executablePath(arch)} = {}) {
  if (process.platform !== 'linux') throw new Error(`single executable: built for linux only (this is ${process.platform})`)
  const started = performance.now()
  const native = target(arch).arch === process.arch
  const targetNode = seaNode(arch)
  const blobNode = seaNode(process.arch)
  const work = join(dirname(output), `.sea-${target(arch).arch}`)
  rmSync(work, {recursive: true, force: true})
  mkdirSync(join(work, 'bin'), {recursive: true})
  // the split bundle, as bin/run.js runs it from a checkout; bin/run.js is the executable's main
  // script too, and reads the same files from the executable's assets
  await buildBundle({outfile: join(work, 'dist', 'nodedoc.cjs'), chunks: join(work, 'dist', 'nodedoc')})
  copyFileSync(join(repo, 'bin', 'run.js'), join(work, 'bin', 'run.js'))
  copyFileSync(join(repo, 'bin', 'package.json'), join(work, 'bin', 'package.json'))
  // with the very node the executable carries, so that its V8 takes the caches
  if (native) trainCodeCaches(join(work, 'bin', 'run.js'), targetNode)
  const assets = {}
  for (const dir of ['', 'nodedoc']) {
    for (const name of readdirSync(join(work, 'dist', dir))) {
      const key = dir ? `${dir}/${name}` : name
      if (/\.cjs$|\.v8cache$/.test(name) && statSync(join(work, 'dist', key)).isFile()) assets[key] = join(work, 'dist', key)
    }
  }
  const blob = join(work, 'nodedoc.blob')
  const config = {main: join(work, 'bin', 'run.js'), output: blob, disableExperimentalSEAWarning: true, useCodeCache: native, useSnapshot: false, assets}
  writeFileSync(join(work, 'sea-config.json'), JSON.stringify(config, null, 2))
  quiet(blobNode, ['--experimental-sea-config', join(work, 'sea-config.json')])
  rmSync(output, {force: true})
  copyFileSync(targetNode, output)
  chmodSync(output, 0o755)
  const postject = join(dirname(require.resolve('postject')), '..', 'dist', 'cli.js')
  quiet(process.execPath, [postject, output, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE])
  rmSync(work, {recursive: true, force: true})
  return {output, arch: target(arch).goArch, node: SEA_NODE_VERSION, bytes: statSync(output).size, ms: Math.round(performance.now() - started)}
}

/**
 * Whether arch's executable was built after the bundle in dist/ was (so from the same code): the
 * image and krew builds reuse it then with --no-rebuild instead of building it again.
 */
export function executableIsFresh(arch) {
  try {
    return statSync(executablePath(arch)).mtimeMs >= statSync(join(repo, 'dist', 'nodedoc.cjs')).mtimeMs
  } catch {
    return false
  }
}

/** Every target: `--arch amd64` (or arm64) builds one. */
export async function buildBins(arches = TARGETS.map((t) => t.arch)) {
  const built = []
  for (const arch of arches) built.push(await buildBin({arch}))
  return built
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--arch')
  for (const {output, arch, node, bytes, ms} of await buildBins(at > 0 ? [process.argv[at + 1]] : undefined)) {
    process.stdout.write(`single executable: ${output} (linux/${arch}, Node ${node}, ${(bytes / 1024 / 1024).toFixed(1)} MiB, ${ms} ms)\n`)
  }
}
