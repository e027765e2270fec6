#!/usr/bin/env node
// nodedoc's launcher. Two ways to start, same commands:
//  - the esbuild bundle (`npm run build`) when it is at least as new as the tsc output:
//    dist/nodedoc.cjs (oclif and the command manifest) and, for the command that runs, its own
//    file under dist/nodedoc/. Each is compiled from a V8 code cache kept beside it.
//  - otherwise plain oclif over dist/ (after a bare `npx tsc -p .`), so a stale bundle never
//    hides fresh code. NODEDOC_BUNDLE=0 forces this path, NODEDOC_BUNDLE=1 the bundle.
// CommonJS (bin/package.json), because starting Node's ESM loader for one file costs ~5 ms.
'use strict'
const {readFileSync, renameSync, statSync, writeFileSync} = require('node:fs')
const Module = require('node:module')
const {createRequire} = Module
const {dirname, join} = require('node:path')
const {Script} = require('node:vm')

const dist = join(__dirname, '..', 'dist')
const bundle = join(dist, 'nodedoc.cjs')

function mtime(path) {
  try {
    return statSync(path).mtimeMs
  } catch {
    return undefined
  }
}

function bundleIsFresh() {
  if (process.env.NODEDOC_BUNDLE === '0') return false
  const built = mtime(bundle)
  if (built === undefined) return false
  if (process.env.NODEDOC_BUNDLE === '1') return true
  const compiled = mtime(join(dist, 'commands', 'index.js'))
  return compiled === undefined || built >= compiled
}

/**
 * Runs one bundle file as a CommonJS module and returns its exports. It is compiled from the V8
 * code cache beside it, or, when there is none (or V8 refuses it), compiled from source and its
 * cache written at exit, so that it holds the functions this run compiled too. V8 checks a cache
 * against its source's length only, so a cache is named after the build id on the file's first
 * line and can only meet the text it was made from. The build writes pure ASCII, so latin1
 * reads it exactly, and faster than UTF-8.
 */
function loadBundle(file, require = createRequire(file)) {
  const source = readFileSync(file, 'latin1')
  const build = /^\/\/nodedoc-build ([0-9a-f]{16})\n/.exec(source.slice(0, 40))?.[1]
  const cacheFile = build && `${file}.${build}.v8cache`
  let cachedData
  try {
    if (cacheFile) cachedData = readFileSync(cacheFile)
  } catch {}
  // a #! line is only valid at the very start of a script, and Module.wrap puts code before it
  const script = new Script(Module.wrap(source.startsWith('#!') ? `//${source.slice(2)}` : source), {filename: file, cachedData})
  if (cacheFile && (!cachedData || script.cachedDataRejected)) {
    process.once('exit', () => {
      try {
        const fresh = `${cacheFile}.${process.pid}`
        writeFileSync(fresh, script.createCachedData())
        renameSync(fresh, cacheFile) // never a half-written cache for a concurrent start
      } catch {} // a read-only install just goes without
    })
  }
  const module = new Module(file)
  module.filename = file
  module.paths = Module._nodeModulePaths(dirname(file))
  script.runInThisContext().call(module.exports, module.exports, require, module, file, dirname(file))
  return module.exports
}

if (bundleIsFresh()) {
  const core = loadBundle(bundle)
  const loaded = new Map()
  // a command's file takes oclif from the launcher's part (one oclif, one Command class), and a
  // library some runs need from its own file, loaded once
  const loadChunk = (name) => {
    if (!loaded.has(name)) {
      const file = join(dist, 'nodedoc', `${name}.cjs`)
      const require = createRequire(file)
      loaded.set(name, loadBundle(file, (id) => (id === '@oclif/core' ? core.oclif : Object.hasOwn(core.vendor, id) ? loadChunk(core.vendor[id]) : require(id))))
    }
    return loaded.get(name)
  }
  core.start(loadChunk)
} else {
  // no user-installed plugins: nodedoc runs as root on nodes, and must not read a user's data dir
  import('@oclif/core').then(({execute}) => execute({dir: __filename, loadOptions: {root: join(__dirname, '..'), userPlugins: false}}))
}
