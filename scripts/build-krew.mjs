#!/usr/bin/env node
// Builds what a krew index needs: for each platform an archive holding the single executable as
// kubectl-nodedoc (it acts as kubectl's plugin by its own name, see bin/run.js) and the LICENSE,
// and the manifest (plugins/nodedoc.yaml filled in) naming each archive's sha256.
//
// Archives are made the same way every time (sorted names, owner 0, time 0, gzip without a name
// or time), so their digests change only when the executable does.
//
// NODEDOC_RELEASE_URL names the folder the archives will be downloaded from (default: the
// project's release page for this version).

import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import * as YAML from 'yaml'
import {buildBin, executableIsFresh, executablePath} from './build-bin.mjs'
import {TARGETS} from './sea-node.mjs'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const pjson = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'))
export const KREW_DIR = join(repo, 'dist', 'krew')
export const KREW_MANIFEST = join(KREW_DIR, 'nodedoc.yaml')
export const archiveName = (goArch) => `nodedoc-linux-${goArch}.tar.gz`
const sha256 = (path) => createHash('sha256').update(readFileSync(path)).digest('hex')

function pack(executable, goArch) {
  const stage = join(KREW_DIR, `.stage-${goArch}`)
  rmSync(stage, {recursive: true, force: true})
  mkdirSync(stage, {recursive: true})
  copyFileSync(executable, join(stage, 'kubectl-nodedoc'))
  chmodSync(join(stage, 'kubectl-nodedoc'), 0o755)
  copyFileSync(join(repo, 'LICENSE'), join(stage, 'LICENSE'))
  chmodSync(join(stage, 'LICENSE'), 0o644)
  const tarFile = join(KREW_DIR, `nodedoc-linux-${goArch}.tar`)
  execFileSync('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-C', stage, '-cf', tarFile, 'LICENSE', 'kubectl-nodedoc'])
  rmSync(`${tarFile}.gz`, {force: true})
  execFileSync('gzip', ['-n', '-9', tarFile])
  rmSync(stage, {recursive: true, force: true})
  return `${tarFile}.gz`
}

export async function buildKrew({release = process.env.NODEDOC_RELEASE_URL, rebuild = true} = {}) {
  const started = performance.now()
  const base = release ?? `https://github.com/nodedoc/nodedoc/releases/download/v${pjson.version}`
  mkdirSync(KREW_DIR, {recursive: true})
  const manifest = YAML.parse(readFileSync(join(repo, 'plugins', 'nodedoc.yaml'), 'utf8'))
  manifest.spec.version = `v${pjson.version}`
  const archives = []
  for (const {arch, goArch} of TARGETS) {
    const executable = executablePath(arch)
    if (rebuild || !executableIsFresh(arch)) await buildBin({arch})
    const archive = pack(executable, goArch)
    const platform = manifest.spec.platforms.find((p) => p.selector.matchLabels.arch === goArch)
    if (!platform) throw new Error(`plugins/nodedoc.yaml has no platform for linux/${goArch}`)
    platform.uri = platform.uri.replace('{{release}}', base)
    platform.sha256 = sha256(archive)
    archives.push({goArch, archive, sha256: platform.sha256})
  }
  writeFileSync(KREW_MANIFEST, YAML.stringify(manifest, {lineWidth: 0}))
  return {manifest: KREW_MANIFEST, archives, ms: Math.round(performance.now() - started)}
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const {manifest, archives, ms} = await buildKrew({rebuild: !process.argv.includes('--no-rebuild')})
  for (const {archive, sha256: digest} of archives) process.stdout.write(`krew archive: ${archive} sha256:${digest}\n`)
  process.stdout.write(`krew manifest: ${manifest} (${ms} ms)\n`)
}
