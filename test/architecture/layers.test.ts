// The layers of docs/architecture.md, checked on every run: a module may import from its own
// folder and from folders in a lower layer, never from a higher one or a neighbour in its own
// layer. A new folder under src/ must be given a layer here (and in the doc's picture).
import {readFileSync, readdirSync} from 'node:fs'
import {dirname, join, relative, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import ts from 'typescript'
import {describe, expect, it} from 'vitest'

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

/** Lowest first. `.` is a file directly in src/ (errors.ts). */
export const LAYERS: string[][] = [
  ['.', 'parse'],
  ['output'],
  ['host'],
  ['write'],
  ['pods'],
  ['cri', 'kubectl', 'logs', 'net', 'report', 'ship', 'svc', 'usage'],
  ['probe'],
  ['sandbox'],
  ['compare', 'doctor', 'inside'],
  ['why'],
  ['snapshot'],
  ['cli'],
  ['commands'],
]

const rank = new Map(LAYERS.flatMap((folders, i) => folders.map((f) => [f, i] as const)))

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) => {
    const path = join(dir, e.name)
    if (e.isDirectory()) return sourceFiles(path)
    return e.name.endsWith('.ts') ? [path] : []
  })
}

/** The layer folder of a file: commands, or the first folder under src/ ('.' for src/*.ts). */
function folderOf(file: string): string {
  const [top, second, third] = relative(REPO, file).split('/')
  if (top === 'commands') return 'commands'
  return third === undefined ? '.' : second
}

/** Every relative import of a file: static, type-only, re-exports and import(). */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true)
  return info.importedFiles.map((f) => f.fileName).filter((name) => name.startsWith('.'))
}

const files = [...sourceFiles(join(REPO, 'src')), ...sourceFiles(join(REPO, 'commands'))]

describe('layers', () => {
  it('every folder under src/ has a layer', () => {
    const folders = new Set(files.map(folderOf))
    expect([...folders].filter((f) => !rank.has(f)), 'give each new folder a layer in LAYERS here and in the picture in docs/architecture.md').toEqual([])
  })

  it('finds the imports it checks', () => {
    // a walker that saw nothing would pass anything
    const count = files.reduce((n, f) => n + importsOf(f).length, 0)
    expect(count).toBeGreaterThan(files.length)
    expect(importsOf(join(REPO, 'src/cli/ps.ts'))).toContain('../pods/processes.js')
  })

  it('no import points up a layer, or sideways to another folder of the same layer', () => {
    const wrong: string[] = []
    for (const file of files) {
      const from = folderOf(file)
      for (const spec of importsOf(file)) {
        const target = resolve(dirname(file), spec)
        const to = folderOf(target)
        if (to === from) continue
        if ((rank.get(to) ?? Infinity) >= (rank.get(from) ?? -1)) wrong.push(`${relative(REPO, file)} -> ${relative(REPO, target)} (${from} may not import ${to})`)
      }
    }
    expect(wrong).toEqual([])
  })

  it('only src/host and src/write touch the filesystem, start programs or open sockets', () => {
    const machine = /^(node:)?(fs|fs\/promises|child_process|net|dgram|http|https)$|^execa$|^tar$|^@grpc\//
    const wrong: string[] = []
    for (const file of files) {
      const folder = folderOf(file)
      if (folder === 'host' || folder === 'write') continue
      const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true)
      for (const {fileName} of info.importedFiles) if (machine.test(fileName)) wrong.push(`${relative(REPO, file)}: ${fileName}`)
    }
    expect(wrong).toEqual([])
  })
})
