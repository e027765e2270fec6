// Reads the files `nodedoc report` was given, through the Host seam like every other read.
// A folder contributes its *.json files (one level down too: a folder per node); a file that
// is not JSON, or JSON of no known shape, is skipped with one warning line.

import {NodedocError} from '../errors.js'
import {type Host, hostPath} from '../host/host.js'
import type {NodeInput} from './merge.js'
import {recognise} from './shapes.js'

export interface ReadResult {
  inputs: NodeInput[]
  /** One line per file skipped, already saying which file and why. */
  skipped: string[]
}

/** Node name from a file name: "node-a.json", "node-a.doctor.json", "node-a/doctor.json". */
export function nodeFromFileName(path: string): string {
  const parts = path.split('/').filter(Boolean)
  const base = (parts.at(-1) ?? path).replace(/\.json$/i, '')
  const GENERIC = /^(doctor|svc|services|pods?|ps|report|out(put)?)$/i
  if (GENERIC.test(base) && parts.length > 1) return parts.at(-2)!
  return base.replace(/[._-](doctor|svc|services|pods?|ps)$/i, '') || base
}

async function listJson(host: Host, dir: string, depth: number): Promise<string[] | undefined> {
  const entries = await host.readDir(dir)
  if (!entries) return undefined
  const files: string[] = []
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const path = hostPath(dir, entry.name)
    if ((entry.kind === 'file' || entry.kind === 'link') && /\.json$/i.test(entry.name)) files.push(path)
    else if (entry.kind === 'dir' && depth > 0) files.push(...((await listJson(host, path, depth - 1)) ?? []))
  }
  return files
}

/** paths: absolute file or folder paths. Missing paths throw; bad files are skipped. */
export async function readNodeReports(host: Host, paths: string[]): Promise<ReadResult> {
  const files: string[] = []
  for (const path of paths) {
    const stat = await host.stat(path)
    if (!stat) throw new ReportInputError(`${path}: no such file or folder`)
    if (stat.kind === 'dir') files.push(...((await listJson(host, path, 1)) ?? []))
    else files.push(hostPath(path))
  }
  const inputs: NodeInput[] = []
  const skipped: string[] = []
  for (const file of [...new Set(files)]) {
    const text = await host.readFile(file)
    if (text === undefined) {
      skipped.push(`${file}: unreadable, skipped`)
      continue
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (error) {
      skipped.push(`${file}: not JSON (${(error as Error).message}), skipped`)
      continue
    }
    const found = recognise(parsed)
    if (!found.ok) {
      skipped.push(`${file}: ${found.reason}, skipped`)
      continue
    }
    inputs.push({source: file, node: found.doc.node ?? nodeFromFileName(file), doc: found.doc})
  }
  return {inputs, skipped}
}

export class ReportInputError extends NodedocError {}
