#!/usr/bin/env node
// nodedoc's launcher. Three ways to start, same commands:
//  - the esbuild bundle (`npm run build`) when it was made from the tsc output that is there now
//    (or there is none, as in the npm package): dist/nodedoc.cjs (oclif and the command manifest)
//    and, for the command that runs, its own file under dist/nodedoc/. Each is compiled from a V8
//    code cache kept beside it. "Made from" is decided by build id, never by file times: the
//    bundle names the tsc build it was made from (a hash of tsc's dist/tsconfig.tsbuildinfo,
//    which an incremental tsc rewrites only when its output changes), so a script that reruns
//    tsc over the same sources keeps the bundle, and a changed source compiled by a bare
//    `npx tsc -p .` runs as compiled.
//  - inside the single executable (scripts/build-bin.mjs), whose main script this file is: the
//    same bundle files and their code caches, read from the executable's assets.
//  - otherwise plain oclif over dist/ (after a bare `npx tsc -p .`), so a stale bundle never
//    hides fresh code. NODEDOC_BUNDLE=0 forces this path, NODEDOC_BUNDLE=1 the bundle.
// CommonJS (bin/package.json), because starting Node's ESM loader for one file costs ~5 ms.
'use strict'
const {closeSync, existsSync, openSync, readFileSync, readSync, renameSync, statSync, writeFileSync} = require('node:fs')
const Module = require('node:module')
const {basename, dirname, join} = require('node:path')
const {Script} = require('node:vm')

const sea = (() => {
  try {
    return require('node:sea').isSea()
  } catch {
    return false
  }
})()
// Caches are written only by the build's training runs: an installed copy never writes into its
// install folder, and the caches a package carries do not depend on what ran before packing.
const writeCaches = !sea && process.env.NODEDOC_CODE_CACHE === 'write'
// Installed or copied as kubectl-nodedoc (krew, or the npm package's bin), it is kubectl's plugin:
// `kubectl nodedoc NODE -- CMD` runs `nodedoc kubectl NODE -- CMD`.
if (/^kubectl-nodedoc(\.|$)/.test(basename(sea ? process.execPath : process.argv[1] || ''))) process.argv.splice(2, 0, 'kubectl')
// in the executable, names are the executable's folder plus the asset's name (for messages only)
const dist = sea ? dirname(process.execPath) : join(__dirname, '..', 'dist')

/**
 * The tsc build in dist/ now: a hash of tsc's build info; undefined when there is none. The
 * bundle also names the build info's file as it was when it hashed it (inode, size, times):
 * while it is still that very file, its hash is the one the bundle names, and node:crypto (5-10
 * ms of start-up: it loads Node's streams) is not needed. Any write changes its ctime.
 */
function tscBuild(hashed) {
  const file = join(dist, 'tsconfig.tsbuildinfo')
  let info
  try {
    if (hashed && hashed.file === fileKey(statSync(file))) return hashed.build
    info = readFileSync(file)
  } catch {
    return undefined
  }
  return require('node:crypto').createHash('sha256').update(info).digest('hex').slice(0, 16)
}

/** A file as the build saw it (scripts/build-bundle.mjs writes the same). */
function fileKey(stat) {
  return `${stat.ino}:${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}`
}

/** Whether to run the bundle whose launcher part begins with head (undefined: there is none). */
function bundleIsFresh(head) {
  if (sea) return true
  if (process.env.NODEDOC_BUNDLE === '0' || head === undefined) return false
  if (process.env.NODEDOC_BUNDLE === '1') return true
  const [, madeFrom, file] = /^\/\/nodedoc-build [0-9a-f]{16}\n\/\/nodedoc-tsc ([0-9a-f]{16}|none)(?: ([0-9.:]+))?\n/.exec(head) ?? []
  const now = tscBuild(file && {build: madeFrom, file})
  // no build info: an installed package (the bundle alone), or tsc output of unknown build
  if (now === undefined) return !existsSync(join(dist, 'commands', 'index.js'))
  return madeFrom === now
}

/** A bundle file's bytes (name is relative to dist/), from disk or from the executable. */
function readPart(name) {
  return sea ? Buffer.from(require('node:sea').getRawAsset(name)) : readFileSync(join(dist, name))
}

/**
 * Runs one bundle file as a CommonJS module and returns its exports. It is compiled from the V8
 * code cache beside it, or, when there is none (or V8 refuses it), compiled from source; in the
 * build's training runs its cache is then written at exit, holding what that run compiled. V8
 * checks a cache against its source's length only, so a cache is named after the build id on
 * the file's first line and can only meet the text it was made from. The build writes pure
 * ASCII, so latin1 reads it exactly, and faster than UTF-8. Other runs (an installed copy, the
 * executable) write nothing.
 */
function loadBundle(name, require, source = readPart(name).toString('latin1')) {
  const file = join(dist, name)
  const build = /^\/\/nodedoc-build ([0-9a-f]{16})\n/.exec(source.slice(0, 40))?.[1]
  const cacheName = build && `${name}.${build}.v8cache`
  let cachedData
  try {
    if (cacheName) cachedData = readPart(cacheName)
  } catch {}
  const script = new Script(Module.wrap(source), {filename: file, cachedData})
  if (writeCaches && cacheName && (!cachedData || script.cachedDataRejected)) {
    process.once('exit', () => {
      try {
        const cacheFile = join(dist, cacheName)
        const fresh = `${cacheFile}.${process.pid}`
        writeFileSync(fresh, script.createCachedData())
        renameSync(fresh, cacheFile) // never a half-written cache for a concurrent start
      } catch {} // a read-only install just goes without
    })
  }
  const module = new Module(file)
  module.filename = file
  module.paths = sea ? [] : Module._nodeModulePaths(dirname(file))
  script.runInThisContext().call(module.exports, module.exports, require, module, file, dirname(file))
  return module.exports
}

/**
 * What a bundle file's require() reaches: on disk, what Node resolves from the file's folder; in
 * the executable, built-in modules only (the bundle's few optional requires of files, such as
 * typescript for ts-node, then fail quietly as "not found", which each of them handles).
 */
function requireFor(name) {
  if (!sea) return Module.createRequire(join(dist, name))
  return (id) => {
    if (Module.isBuiltin(id)) return require(id)
    throw Object.assign(new Error(`Cannot find module ${id} (not inside the nodedoc executable)`), {code: 'MODULE_NOT_FOUND'})
  }
}

/** The first bytes of the launcher's part, which name its build (undefined: there is none). */
function coreHead() {
  if (process.env.NODEDOC_BUNDLE === '0') return undefined
  try {
    if (sea) return Buffer.from(require('node:sea').getRawAsset('nodedoc.cjs'), 0, 160).toString('latin1')
    const fd = openSync(join(dist, 'nodedoc.cjs'), 'r')
    try {
      const head = Buffer.alloc(160)
      return head.toString('latin1', 0, readSync(fd, head, 0, 160, 0))
    } finally {
      closeSync(fd)
    }
  } catch {
    return undefined
  }
}

/** Plain oclif over the tsc output in dist/. */
function startOclif() {
  // no user-installed plugins: nodedoc runs as root on nodes, and must not read a user's data dir
  import('@oclif/core').then(({execute}) => execute({dir: __filename, loadOptions: {root: join(__dirname, '..'), userPlugins: false}}))
}

const head = coreHead()
const loaded = new Map()
let core
/** The launcher's part (oclif, the manifest), loaded once; undefined when it changed since its head was read and is not fresh. */
function loadCore() {
  if (core === undefined) {
    const source = readPart('nodedoc.cjs').toString('latin1')
    if (!source.startsWith(head) && !bundleIsFresh(source.slice(0, 160))) return undefined
    core = loadBundle('nodedoc.cjs', requireFor('nodedoc.cjs'), source)
  }
  return core
}
// a command's file takes oclif from the launcher's part (one oclif, one Command class), and a
// library some runs need from its own file (vendor() names those files), loaded once
const loadChunk = (chunk, vendor = () => core.vendor) => {
  if (!loaded.has(chunk)) {
    const name = `nodedoc/${chunk}.cjs`
    const require = requireFor(name)
    const resolve = (id) => {
      if (id === '@oclif/core') return loadCore().oclif
      const files = vendor()
      return Object.hasOwn(files, id) ? loadChunk(files[id], vendor) : require(id)
    }
    loaded.set(chunk, loadBundle(name, resolve))
  }
  return loaded.get(chunk)
}

/** `sandbox create` and `rm`: the runs that end without Node's teardown of the heap (below). */
const quickExit = process.argv[2] === 'sandbox' && (process.argv[3] === 'create' || process.argv[3] === 'rm')

/**
 * `pod NAME` (src/cli/direct.ts), `ps` (src/cli/direct-ps.ts), `sandbox create`
 * (src/cli/direct-sandbox.ts) and, once a live run's listings are started, `svc` (chosen:
 * src/cli/direct-svc.ts) without oclif, when that file takes this argv; false when it does not,
 * or when NODEDOC_DIRECT=0 asks for oclif's start. Help is oclif's: for -h and --help the file
 * is not even read.
 */
function startDirect(chosen) {
  const argv = process.argv.slice(2)
  const file = chosen ?? (argv[0] === 'pod' ? 'direct' : argv[0] === 'ps' ? 'direct-ps' : argv[0] === 'sandbox' && argv[1] === 'create' ? 'direct-sandbox' : undefined)
  if (!file || process.env.NODEDOC_DIRECT === '0' || argv.includes('--help') || argv.includes('-h')) return false
  let direct
  try {
    // the file names its own vendor files (none is required while it loads): the launcher's
    // part is not loaded on this path
    direct = loadChunk(file, () => direct?.vendor ?? {})
  } catch {
    return false // a bundle without that file: oclif runs it
  }
  const run = direct.directRun(argv)
  if (!run) return false
  // an error nothing caught ends the run as it would under oclif
  run().catch((error) => loadCore().oclif.handle(error))
  if (quickExit) process.once('beforeExit', () => process.exit())
  return true
}

if (!bundleIsFresh(head)) startOclif()
else if (!startDirect()) {
  // a live `svc NAME`: its listings and saves start now, while Node loads the CLI (src/svc/early.ts)
  if (process.argv[2] === 'svc') {
    try {
      loadBundle('nodedoc/svc-early.cjs', requireFor('nodedoc/svc-early.cjs')).startSvcEarly(process.argv.slice(3))
    } catch {} // a bundle without that file: the command starts them itself
  }
  // then svc without oclif, when src/cli/direct-svc.ts takes the argv
  if (process.argv[2] === 'svc' && startDirect('direct-svc')) {
    // its run has started
  } else if (loadCore() === undefined) startOclif()
  else {
    core.start(loadChunk)
    // `sandbox create` and `rm`: once nothing is left to run (every child reaped, every write done:
    // the loop is empty), the process ends without Node's teardown of its heap, 10-30 ms on a
    // busy VM. The same exit code and 'exit' handlers as a natural exit; nothing uses beforeExit.
    if (quickExit) process.once('beforeExit', () => process.exit())
  }
}
