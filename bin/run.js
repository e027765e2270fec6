#!/usr/bin/env node
// nodedoc's launcher. Two ways to start, same commands:
//  - dist/nodedoc.cjs, the esbuild bundle (`npm run build`), when it is at least as new as the
//    tsc output: one file, compiled from a V8 code cache kept beside it, no module resolution.
//  - otherwise plain oclif over dist/ (after a bare `npx tsc -p .`), so a stale bundle never
//    hides fresh code. NODEDOC_BUNDLE=0 forces this path, NODEDOC_BUNDLE=1 the bundle.
import {readFileSync, renameSync, statSync, writeFileSync} from 'node:fs'
import Module, {createRequire} from 'node:module'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {Script} from 'node:vm'

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist')
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

/** Runs the bundle as a CommonJS module, compiled from (and refreshing) its V8 code cache. */
function runBundle() {
  const cacheFile = bundle + '.v8cache'
  const source = readFileSync(bundle, 'utf8').replace(/^#!/, '//')
  let cachedData
  try {
    cachedData = readFileSync(cacheFile)
  } catch {}
  const script = new Script(Module.wrap(source), {filename: bundle, cachedData})
  if (!cachedData || script.cachedDataRejected) {
    // written at exit so it holds the functions this run compiled too; a read-only install just goes without
    process.once('exit', () => {
      try {
        const fresh = `${cacheFile}.${process.pid}`
        writeFileSync(fresh, script.createCachedData())
        renameSync(fresh, cacheFile) // never a half-written cache for a concurrent start
      } catch {}
    })
  }
  const module = new Module(bundle)
  module.filename = bundle
  module.paths = Module._nodeModulePaths(dist)
  script.runInThisContext().call(module.exports, module.exports, createRequire(bundle), module, bundle, dist)
}

if (bundleIsFresh()) runBundle()
else {
  const {execute} = await import('@oclif/core')
  // no user-installed plugins: nodedoc runs as root on nodes, and must not read a user's data dir
  await execute({dir: import.meta.url, loadOptions: {root: join(dirname(fileURLToPath(import.meta.url)), '..'), userPlugins: false}})
}
