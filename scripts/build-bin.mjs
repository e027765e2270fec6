#!/usr/bin/env node
// Builds dist/bin/nodedoc-linux-x64: one file that runs nodedoc on a machine with no Node.js and
// no node_modules (Node's single-executable-application support). Its main script is
// bin/run.js, and its assets are the split bundle's files (scripts/build-bundle.mjs) with V8 code
// caches made here, so it starts the way a checkout does: the launcher part, then only the
// file of the command that runs. The bundle already carries package.json and oclif's manifest:
// see src/ship/launch.ts for how oclif starts from it.
//
// Steps: split bundle -> training runs that leave code caches (trainCodeCaches) -> `node --experimental-sea-config`
// writes a blob with bin/run.js and the assets -> copy of this very node binary -> postject
// injects the blob and flips the fuse.

import {execFileSync} from 'node:child_process'
import {chmodSync, copyFileSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {buildBundle, trainCodeCaches} from './build-bundle.mjs'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(join(repo, 'package.json'))
// the fuse string Node's binaries carry; postject flips it so node runs the injected blob
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'
export const EXECUTABLE = join(repo, 'dist', 'bin', `nodedoc-${process.platform}-${process.arch}`)

export async function buildBin({output = EXECUTABLE} = {}) {
  if (process.platform !== 'linux') throw new Error(`single executable: built for linux only (this is ${process.platform})`)
  const started = performance.now()
  const work = join(dirname(output), '.sea')
  rmSync(work, {recursive: true, force: true})
  mkdirSync(join(work, 'bin'), {recursive: true})
  // the split bundle, as bin/run.js runs it from a checkout; bin/run.js is the executable's main
  // script too, and reads the same files from the executable's assets
  await buildBundle({outfile: join(work, 'dist', 'nodedoc.cjs'), chunks: join(work, 'dist', 'nodedoc')})
  copyFileSync(join(repo, 'bin', 'run.js'), join(work, 'bin', 'run.js'))
  copyFileSync(join(repo, 'bin', 'package.json'), join(work, 'bin', 'package.json'))
  // with this very node, whose V8 the executable carries: it must not write caches on a node
  trainCodeCaches(join(work, 'bin', 'run.js'))
  const assets = {}
  for (const dir of ['', 'nodedoc']) {
    for (const name of readdirSync(join(work, 'dist', dir))) {
      const key = dir ? `${dir}/${name}` : name
      if (/\.cjs$|\.v8cache$/.test(name) && statSync(join(work, 'dist', key)).isFile()) assets[key] = join(work, 'dist', key)
    }
  }
  const blob = join(work, 'nodedoc.blob')
  const config = {main: join(work, 'bin', 'run.js'), output: blob, disableExperimentalSEAWarning: true, useCodeCache: true, useSnapshot: false, assets}
  writeFileSync(join(work, 'sea-config.json'), JSON.stringify(config, null, 2))
  execFileSync(process.execPath, ['--experimental-sea-config', join(work, 'sea-config.json')], {stdio: ['ignore', 'ignore', 'inherit']})
  rmSync(output, {force: true})
  copyFileSync(process.execPath, output)
  chmodSync(output, 0o755)
  const postject = join(dirname(require.resolve('postject')), '..', 'dist', 'cli.js')
  execFileSync(process.execPath, [postject, output, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE], {stdio: ['ignore', 'ignore', 'inherit']})
  rmSync(work, {recursive: true, force: true})
  return {output, bytes: statSync(output).size, ms: Math.round(performance.now() - started)}
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const {output, bytes, ms} = await buildBin()
  process.stdout.write(`single executable: ${output} (${(bytes / 1024 / 1024).toFixed(1)} MiB, ${ms} ms)\n`)
}
