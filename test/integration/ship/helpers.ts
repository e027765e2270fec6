import {existsSync, readdirSync, writeFileSync} from 'node:fs'
import {dirname, join, relative, resolve} from 'node:path'
import {spawnSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {execa} from 'execa'
import {tempFolder} from '../../helpers/temp-folder.js'

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
export const RUN = join(REPO, 'bin', 'run.js')

/** nodedoc from the checkout (bundle or dist/), as `npm test` built it. */
export function nodedoc(args: string[], env: Record<string, string> = {}) {
  return execa(process.execPath, [RUN, ...args], {reject: false, env: {NO_COLOR: '', ...env}, stdin: 'ignore'})
}

/** Snapshots under examples/ (folders with meta.json, or archives), once they exist. */
export function exampleSnapshots(): string[] {
  const dir = join(REPO, 'examples')
  if (!existsSync(dir)) return []
  const found: string[] = []
  for (const entry of readdirSync(dir, {withFileTypes: true})) {
    const path = join(dir, entry.name)
    if (entry.isDirectory() && existsSync(join(path, 'meta.json'))) found.push(path)
    else if (/\.(tar\.gz|tgz)$/.test(entry.name)) found.push(path)
  }
  return found.sort()
}

/** The first pod a snapshot's `ps` ties a process to, as pod command arguments. */
export function firstPodArgs(psJson: string): string[] | undefined {
  const rows = (JSON.parse(psJson) as {items: Array<{pod: {name: string | null; namespace: string | null} | null}>}).items
  const pod = rows.find((r) => r.pod?.name && r.pod.namespace)?.pod
  return pod ? [pod.name!, '-n', pod.namespace!] : undefined
}

/**
 * Writes a --require preload into dir that appends each path read through fs.readFileSync (how
 * bin/run.js reads the bundle) to the file named by READS_LOG; returns the preload's path.
 */
export function writeReadsPreload(dir: string): string {
  const preload = join(dir, 'reads.cjs')
  writeFileSync(preload, `
const fs = require('node:fs')
const read = fs.readFileSync
fs.readFileSync = function (path, ...rest) {
  if (typeof path === 'string') fs.appendFileSync(process.env.READS_LOG, path + '\\n')
  return read.call(this, path, ...rest)
}
`)
  return preload
}

/** Stands for an empty folder (made for the file's runs) in a direct-path test's argv and env. */
export const EMPTY_ROOT = '<empty root>'

/**
 * The runs of a direct-path test (test/integration/ship/direct*.test.ts): each through bin/run.js,
 * with the bundle files it read; its folder made before the file's tests and removed after them.
 */
export function directRuns(prefix: string) {
  let preload = ''
  const dir = tempFolder(prefix, () => {
    spawnSync('mkdir', [emptyRoot])
    preload = writeReadsPreload(dir)
  })
  const emptyRoot = join(dir, 'root')
  /** One run through bin/run.js: its output, exit code and the bundle files it read. */
  const run = (args: string[], env: Record<string, string>) => {
    const log = join(dir, `reads-${Math.random().toString(36).slice(2)}`)
    writeFileSync(log, '')
    const result = spawnSync(process.execPath, ['--require', preload, RUN, ...args], {env: {PATH: process.env.PATH, NO_COLOR: '1', NODE_ENV: 'production', NODEDOC_BUNDLE: '1', READS_LOG: log, ...env}, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8'})
    const reads = spawnSync('cat', [log], {encoding: 'utf8'}).stdout.split('\n').filter((p) => p.includes('/dist/nodedoc') && !p.endsWith('.v8cache'))
    return {stdout: result.stdout, stderr: result.stderr, status: result.status, files: [...new Set(reads.map((p) => relative(join(REPO, 'dist'), p)))].sort()}
  }
  /** argv and env with EMPTY_ROOT made the empty folder's path. */
  const withRoot = (args: string[], env: Record<string, string> = {}) => ({
    args: args.map((a) => (a === EMPTY_ROOT ? emptyRoot : a)),
    env: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === EMPTY_ROOT ? emptyRoot : v])),
  })
  return {run, withRoot, dir: () => dir, emptyRoot: () => emptyRoot}
}
