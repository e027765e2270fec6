import {existsSync, readdirSync, writeFileSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {execa} from 'execa'

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
