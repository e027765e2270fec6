#!/usr/bin/env node
// Builds dist/bin/nodedoc-linux-x64: one file that runs nodedoc on a machine with no Node.js and
// no node_modules (Node's single-executable-application support). The bundle (scripts/
// build-bundle.mjs, its 'single' shape) already carries package.json, the command manifest and
// every command and plugin in memory, so the executable needs no assets: see src/ship/launch.ts for how oclif starts from it.
//
// Steps: bundle -> `node --experimental-sea-config` writes a blob with the script and its V8
// code cache -> copy of this very node binary -> postject injects the blob and flips the fuse.

import {execFileSync} from 'node:child_process'
import {chmodSync, copyFileSync, mkdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {buildBundle} from './build-bundle.mjs'

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
  mkdirSync(work, {recursive: true})
  // one script holding every command (a single executable runs one CommonJS main script)
  const {outfile: bundle} = await buildBundle({mode: 'single', outfile: join(work, 'nodedoc.cjs')})
  const blob = join(work, 'nodedoc.blob')
  const config = {main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true, useSnapshot: false}
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
