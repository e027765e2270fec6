#!/usr/bin/env node
// Bundles the compiled CLI (dist/, from `tsc`) with every dependency, split in files by what a
// run needs (what bin/run.js, the npm package and the single executable run):
// dist/nodedoc.cjs holds oclif, the launcher and oclif's command manifest, and nothing a command
// imports; each command is its own file, dist/nodedoc/<id>.cjs, with everything it needs except
// oclif (which it takes from nodedoc.cjs) and the few big libraries only some runs need (those
// have files of their own, see LAZY_MODULES). `--version` and `--help` load only nodedoc.cjs;
// `pod --from` loads nodedoc.cjs and pod.cjs. bin/run.js compiles each file from a V8 code cache
// kept beside it (or, in the single executable, carried in it), so a file's cache holds only
// what that file's runs compiled.
//
// A few files instead of hundreds means no module resolution, no folder scan and no
// package.json lookups at start. CommonJS because vm.Script, which takes a code cache, compiles
// scripts, not modules.
//
// Plugins (help, autocomplete, not-found) are taken by file, since their package "exports" only
// name an index, and handed to src/ship/launch.ts as classes and functions.

import {build} from 'esbuild'
import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {mkdir, readFile, readdir, rename, rm, stat, writeFile} from 'node:fs/promises'
import {createRequire} from 'node:module'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(join(repo, 'package.json'))
// package "exports" hide package.json; the folder two levels above the main file is the package
const pluginDir = (name) => resolve(dirname(require.resolve(name)), '..')
export const BUNDLE = join(repo, 'dist', 'nodedoc.cjs')
/** Where the split build puts one file per command (and per lazily loaded hook). */
export const CHUNKS = join(repo, 'dist', 'nodedoc')

/** A command id as a file name: sandbox:create -> sandbox-create. */
const chunkName = (id) => id.replace(/:/g, '-')

/** Every command the CLI has, by id, as the file that default-exports its class. */
async function commandFiles() {
  const help = pluginDir('@oclif/plugin-help')
  const complete = pluginDir('@oclif/plugin-autocomplete')
  const files = {
    help: join(help, 'lib/commands/help.js'),
    autocomplete: join(complete, 'lib/commands/autocomplete/index.js'),
    'autocomplete:create': join(complete, 'lib/commands/autocomplete/create.js'),
    'autocomplete:script': join(complete, 'lib/commands/autocomplete/script.js'),
  }
  // ours follow oclif's layout: id a:b lives in dist/commands/a/b.js; the registry says which exist
  const {COMMANDS} = await import(pathToFileURL(join(repo, 'dist', 'commands', 'index.js')).href)
  for (const [id, command] of Object.entries(COMMANDS)) {
    const file = join(repo, 'dist', 'commands', ...id.split(':')) + '.js'
    const exported = existsSync(file) ? (await import(pathToFileURL(file).href)).default : undefined
    if (exported !== command) throw new Error(`command ${id}: ${file} does not default-export the class commands/index.ts registers`)
    files[id] = file
  }
  return files
}

/** Hooks loaded on first use: "did you mean" pulls in a prompt library nobody needs at start. */
const hookFiles = () => ({command_not_found: join(pluginDir('@oclif/plugin-not-found'), 'lib/index.js')})

/** package.json as oclif reads it at run time; scripts and devDependencies stay behind. */
async function embeddedPjson() {
  const pjson = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8'))
  return {name: pjson.name, version: pjson.version, description: pjson.description, type: pjson.type, license: pjson.license, bin: pjson.bin, engines: pjson.engines, oclif: pjson.oclif, dependencies: pjson.dependencies}
}

/** oclif's manifest for these commands, made by oclif from the classes themselves. */
async function manifestFor(pjson, files) {
  const {buildManifest} = await import(pathToFileURL(join(repo, 'dist', 'src', 'ship', 'launch.js')).href)
  const classes = {}
  for (const [id, file] of Object.entries(files)) classes[id] = (await import(pathToFileURL(file).href)).default
  return buildManifest(pjson, repo, classes)
}

/**
 * The entry script of nodedoc.cjs. A command's class arrives through the chunk loader that
 * bin/run.js hands to start().
 */
function entrySource({pjson, manifest, files}) {
  const load = (key) => `loadChunk(${JSON.stringify(chunkName(key))}).default`
  const commands = Object.keys(files).map((id) => `${JSON.stringify(id)}: () => ${load(id)}`)
  const hooks = Object.keys(hookFiles()).map((event) => `${JSON.stringify(event)}: [function (options) { return ${load(event)}.call(this, options) }]`)
  const lines = [
    `const {launch} = require('./dist/src/ship/launch.js')`,
    `const sea = (() => { try { return require('node:sea').isSea() } catch { return false } })()`,
    // in a single executable the "root" is the folder holding it; else the package folder above dist/
    `const root = sea ? require('node:path').dirname(process.execPath) : require('node:path').resolve(__dirname, '..')`,
    // the manifest as JSON text: parsing 24 KB of JSON is several times quicker than building the
    // same object from a literal, which every start would do
    `const start = (loadChunk) => launch({pjson: ${JSON.stringify(pjson)}, root, manifest: JSON.parse(${JSON.stringify(JSON.stringify(manifest))}), commands: {${commands.join(', ')}}, hooks: {${hooks.join(', ')}}})`,
  ]
  // bin/run.js calls start() with its chunk loader, and hands chunks this oclif and, for a
  // lazily loaded module, its vendor file
  const vendor = Object.fromEntries(LAZY_MODULES.map((name) => [name, vendorName(name)]))
  lines.push(`module.exports = {start, oclif: require('@oclif/core'), vendor: ${JSON.stringify(vendor)}}`)
  return lines.join('\n')
}

// made when first asked for: node:url and a URL for the file cost ~1 ms at every load of every
// bundle file, and the few modules that ask (for a file beside them) ask late, if at all
const META_URL = `var __nodedocMeta = {get url() { return require('node:url').pathToFileURL(__filename).href }};`
const LAZY = `var __nodedocLazy = (load) => { let loaded; const real = () => (loaded ??= load()); return new Proxy({}, {get: (_, key) => real()[key], has: (_, key) => key in real(), ownKeys: () => Reflect.ownKeys(real()), getOwnPropertyDescriptor: (_, key) => Object.getOwnPropertyDescriptor(real(), key)}) };`

/**
 * proto/cri.proto as protobufjs JSON: the CRI client loads it from there when it is present
 * (src/host/cri-transport.ts), since a single executable has no proto/ folder to read.
 */
async function criProtoJson() {
  // the protobufjs that @grpc/proto-loader itself uses
  const protobuf = createRequire(require.resolve('@grpc/proto-loader'))('protobufjs')
  return protobuf.loadSync(join(repo, 'proto', 'cri.proto')).toJSON()
}

/**
 * Modules that only some runs need and that cost more to load than they should on every start
 * (the CRI client's grpc and protobufjs ~30 ms; execa only to run a program, tar only for a
 * .tar.gz snapshot, yaml only for YAML, jsonpath-plus only for -o jsonpath, custom-columns and
 * --sort-by). A namespace import of one of them (import * as x)
 * becomes an object that loads the module on first use; in the split build each of them is
 * also a file of its own (dist/nodedoc/vendor-<name>.cjs), so a run that never touches it
 * never even reads it. The sources keep their plain imports; this changes only when the
 * bundled module runs, not what it does.
 */
const LAZY_MODULES = ['@grpc/grpc-js', '@grpc/proto-loader', 'execa', 'jsonpath-plus', 'tar', 'yaml']
const vendorName = (name) => `vendor-${name.replace(/^@[^/]+\//, '')}`

const lazyModules = {
  name: 'nodedoc-lazy-modules',
  setup(build) {
    build.onLoad({filter: /[\\/]dist[\\/](src|commands)[\\/].*\.js$/}, async ({path}) => {
      const text = await readFile(path, 'utf8')
      let contents = text
      for (const name of LAZY_MODULES) {
        const quoted = name.replace(/[/.@-]/g, (c) => `\\${c}`)
        contents = contents.replace(new RegExp(`^import \\* as (\\w+) from '${quoted}';?$`, 'gm'), (_, local) => `const ${local} = __nodedocLazy(() => require('${name}'));`)
        if (new RegExp(`from '${quoted}'`).test(contents)) throw new Error(`${path}: import ${name} as a namespace (import * as x) so the bundle can load it lazily`)
      }
      return contents === text ? undefined : {contents, loader: 'js'}
    })
  },
}

/** A vendor file's entry: the module itself, as require() gives it. */
const vendorEntry = {
  name: 'nodedoc-vendor-entry',
  setup(build) {
    build.onResolve({filter: /^nodedoc-vendor:/}, ({path}) => ({path: path.slice('nodedoc-vendor:'.length), namespace: 'nodedoc-vendor'}))
    build.onLoad({filter: /.*/, namespace: 'nodedoc-vendor'}, ({path}) => ({contents: `module.exports = require(${JSON.stringify(path)})`, resolveDir: repo, loader: 'js'}))
  },
}

/**
 * What oclif does at every start that this bundle does not need, changed in the launcher's part
 * (each change is checked to have matched):
 *  - every module oclif's own files require (`const x = require("...")`, also through
 *    __importDefault) is loaded on first use, as with LAZY_MODULES: oclif's index loads all of
 *    oclif (help, parser, ux, errors, ejs, debug, globbing, and Node's child_process and
 *    readline), and a run uses a part; ~6 ms on every start. oclif's modules export objects, never
 *    functions, and none is required for its side effects, which is what this relies on.
 *  - its Node version check, which in a bundle reads the package.json beside dist/ from disk and
 *    loads semver (~2 ms); src/ship/launch.ts checks package.json's engines itself.
 *  - fdir's check that picomatch can be found on disk before it uses the copy bundled with it.
 *  - wsl-utils, where oclif only wants is-wsl's answer.
 * And in the command files: string-width's work on plain ASCII (see below).
 */
const LAZY_REQUIRE = /^(const|var) (\w+) = (require\("[^"]+"\)|__importDefault\(require\("[^"]+"\)\));$/gm
const OCLIF = /[\\/]node_modules[\\/]@oclif[\\/]core[\\/]lib[\\/].*\.js$/
export const START_TRIMS = [
  {file: /[\\/]@oclif[\\/]core[\\/]lib[\\/]index\.js$/, from: /^checkNodeVersion\(\);$/m, to: '// checkNodeVersion(): see src/ship/launch.ts'},
  {file: /[\\/]fdir[\\/]dist[\\/]index\.cjs$/, from: /^\s*require\.resolve\("picomatch"\);$/m, to: ''},
  // oclif makes a `debug` logger for its modules as they load, and `debug` asks whether stderr is
  // a terminal: that loads Node's tty, net and stream modules and opens stderr (~5 ms). A logger
  // says nothing unless DEBUG names it, so without DEBUG it is a function that does nothing.
  {
    file: /[\\/]@oclif[\\/]core[\\/]lib[\\/]logger\.js$/,
    from: /^ {4}const debug = \(0, debug_1\.default\)\(namespace\);$/m,
    to: '    const debug = process.env.DEBUG ? (0, debug_1.default)(namespace) : Object.assign(() => {}, {enabled: false, namespace});',
  },
  // chalk asks at import whether stdout and stderr are terminals, which loads Node's tty and net
  // modules (~3 ms), even when NO_COLOR then sets its level (base-command.ts). Here it asks on
  // the first string it colours, with the same answer: supports-color's check runs then, for
  // stdout's level only (chalkStderr, which nodedoc never uses, is left out).
  {
    file: /[\\/]chalk[\\/]source[\\/]vendor[\\/]supports-color[\\/]index\.js$/,
    from: /^import tty from 'node:tty';$/m,
    to: "const tty = {isatty: (fd) => require('node:tty').isatty(fd)};",
  },
  {
    file: /[\\/]chalk[\\/]source[\\/]vendor[\\/]supports-color[\\/]index\.js$/,
    from: /^const supportsColor = \{\n\tstdout: createSupportsColor\(\{isTTY: tty\.isatty\(1\)\}\),\n\tstderr: createSupportsColor\(\{isTTY: tty\.isatty\(2\)\}\),\n\};$/m,
    to: 'const lazyLevel = (fd) => {\n\tlet known;\n\tconst support = () => (known ??= createSupportsColor({isTTY: tty.isatty(fd)}));\n\treturn {get level() { return support() ? support().level : 0; }};\n};\nconst supportsColor = {stdout: lazyLevel(1), stderr: lazyLevel(2)};',
  },
  {
    file: /[\\/]chalk[\\/]source[\\/]index\.js$/,
    from: /^\tconst colorLevel = stdoutColor \? stdoutColor\.level : 0;\n\tobject\.level = options\.level === undefined \? colorLevel : options\.level;$/m,
    to: "\tif (options.level === undefined) {\n\t\tlet level;\n\t\tObject.defineProperty(object, 'level', {configurable: true, enumerable: true, get: () => (level ??= stdoutColor.level), set: (value) => {\n\t\t\tlevel = value;\n\t\t}});\n\t} else {\n\t\tobject.level = options.level;\n\t}",
  },
  {
    file: /[\\/]chalk[\\/]source[\\/]index\.js$/,
    from: /^export const chalkStderr = createChalk\(\{level: stderrColor \? stderrColor\.level : 0\}\);$/m,
    to: '// chalkStderr left out by nodedoc\'s build: it would ask at import whether stderr is a terminal',
  },
  // oclif asks wsl-utils only for isWsl, which is is-wsl's answer re-exported; wsl-utils itself
  // also loads child_process and PowerShell helpers (~1.5 ms). Windows still goes to wsl-utils.
  {file: /[\\/]@oclif[\\/]core[\\/]lib[\\/]util[\\/]os\.js$/, from: /return \(await import\('wsl-utils'\)\)\.isWsl \?/, to: "return (await import('is-wsl')).default ?"},
  // oclif's help measures every word with string-width, whose emoji regular expression is
  // compiled on first use and run on every string. A string of printable
  // ASCII has no escape, emoji, combining or wide character: its width is its length.
  {
    file: /[\\/]node_modules[\\/]string-width[\\/]index\.js$/,
    from: /^(const stringWidth = string => \{\n\tif \(typeof string !== 'string' \|\| string\.length === 0\) \{\n\t\treturn 0;\n\t\}\n)/m,
    to: '$1\tif (/^[\\x20-\\x7e]*$/.test(string)) {\n\t\treturn string.length;\n\t}\n',
  },
]

/**
 * Node's own modules that a command file loads on first use, as LAZY_MODULES: child_process (and
 * with it dgram and net, ~3 ms) is needed only to run a program, which a snapshot never does.
 * esbuild turns `import {spawn} from 'node:child_process'` into `var x=require(...)` and each
 * use into `x.spawn`, so the variable can be the lazy object.
 */
const LAZY_BUILTINS = ['node:child_process']

function lazyBuiltins(text, path) {
  let out = text
  for (const name of LAZY_BUILTINS) {
    const required = `require(${JSON.stringify(name)})`
    const quoted = required.replace(/[().:/]/g, (c) => `\\${c}`)
    const lazy = `__nodedocLazy(() => ${required})`
    out = out.replace(new RegExp(`\\bvar ([\\w$]+) ?= ?${quoted}(?=[;,])`, 'g'), (_, local) => `var ${local} = ${lazy}`)
    // any other form would load it at once: fail the build rather than start slower unnoticed
    if (out.split(lazy).some((part) => part.includes(required))) throw new Error(`${path}: ${name} is required in a form the build cannot make lazy; see LAZY_BUILTINS in scripts/build-bundle.mjs`)
  }
  return out
}

/**
 * ESM packages on the start path (oclif's WSL check, chalk's colour check) take Node's modules
 * by default import, which esbuild turns into a copy of the module with a getter per property,
 * made at every start for process, os and fs. A Node module's default import is its exports
 * object, which require() gives as it is.
 */
const DEFAULT_IMPORTS = {
  file: /[\\/]node_modules[\\/](is-wsl|is-inside-container|is-docker|chalk[\\/]source[\\/]vendor[\\/]supports-color)[\\/]index\.js$/,
  from: /^import (\w+) from '(node:(?:process|os|fs))';$/gm,
}

const startTrims = {
  name: 'nodedoc-start-trims',
  setup(build) {
    let lazy = 0
    let oclif = false
    build.onLoad({filter: /[\\/]node_modules[\\/](@oclif[\\/]core[\\/]lib|fdir[\\/]dist|string-width|chalk[\\/]source|is-wsl|is-inside-container|is-docker)[\\/].*\.c?js$/}, async ({path}) => {
      const text = await readFile(path, 'utf8')
      let contents = text
      if (OCLIF.test(path)) {
        oclif = true
        contents = contents.replace(LAZY_REQUIRE, (_, keyword, local, expression) => {
          lazy++
          return `${keyword} ${local} = __nodedocLazy(() => ${expression});`
        })
      }
      if (DEFAULT_IMPORTS.file.test(path)) {
        const before = contents
        contents = contents.replace(DEFAULT_IMPORTS.from, "const $1 = require('$2');")
        if (contents === before) throw new Error(`${path}: no default import of a Node module to change; see DEFAULT_IMPORTS in scripts/build-bundle.mjs`)
      }
      for (const trim of START_TRIMS) {
        if (!trim.file.test(path)) continue
        // a changed library fails the build instead of quietly starting slower
        if (!trim.from.test(contents)) throw new Error(`${path}: no ${trim.from} to change; see START_TRIMS in scripts/build-bundle.mjs`)
        contents = contents.replace(trim.from, trim.to)
      }
      return contents === text ? undefined : {contents, loader: 'js'}
    })
    build.onEnd(() => {
      // oclif 4 has about 250 such requires; far fewer means its compiled form changed
      if (oclif && lazy < 100) throw new Error(`only ${lazy} of oclif's requires made lazy: has oclif's compiled form changed?`)
    })
  },
}

/**
 * esbuild escapes non-ASCII in strings but not in regular expression literals; \uXXXX means the
 * same there (and in strings, templates, identifiers and comments), so every output is pure
 * ASCII and bin/run.js can read it as latin1, several times faster than decoding UTF-8.
 */
function toAscii(text) {
  return text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

const COMMON = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  charset: 'ascii',
  keepNames: true, // oclif and our errors print class names
  legalComments: 'linked',
  metafile: true,
  write: false, // written below, each file by rename: a CLI starting meanwhile never reads half a bundle
  // only for running TypeScript sources through ts-node in development; oclif copes without it
  external: ['typescript', 'ts-node'],
  logLevel: 'warning',
  // ESM code that asks where it lives (import.meta.url) gets the bundle's own file
  define: {'import.meta.url': '__nodedocMeta.url'},
}

/**
 * Writes each output beside its place and renames it in (a CLI starting meanwhile never reads
 * half a file). A bundle file's first line names its build: `//nodedoc-build <sha256 prefix of the
 * rest>`. bin/run.js keeps a file's V8 code cache under that name (<file>.<id>.v8cache), because
 * V8 checks a cache against its source's length only: a cache can then only ever meet the exact
 * text it was made from, however the file was replaced. Caches of earlier builds are removed.
 */
async function writeOutputs(outputFiles, launcherPart, tscBuild, commandFiles) {
  for (const file of outputFiles) {
    const partial = `${file.path}.${process.pid}.partial`
    let contents = file.contents
    if (file.path.endsWith('.cjs')) {
      // the launcher's part names the tsc build it was made from (bin/run.js runs it only then)
      const body = commandFiles.has(file.path) ? lazyBuiltins(file.text, file.path) : file.text
      const text = (file.path === launcherPart ? `//nodedoc-tsc ${tscBuild}\n` : '') + toAscii(body)
      contents = `//nodedoc-build ${createHash('sha256').update(text).digest('hex').slice(0, 16)}\n${text}`
    }
    await writeFile(partial, contents, {mode: 0o644})
    await rename(partial, file.path)
    const dir = dirname(file.path)
    const base = file.path.slice(dir.length + 1)
    for (const name of await readdir(dir)) if (name.startsWith(`${base}.`) && name.endsWith('.v8cache')) await rm(join(dir, name), {force: true})
  }
}

/**
 * The tsc build the bundle is made from: a hash of tsc's build info (tsconfig.json builds
 * incrementally, so tsc rewrites that file only when its output changes), as bin/run.js computes
 * it; "none" without one. Followed by the file hashed (inode, size, times, as bin/run.js's
 * fileKey writes them), when it did not change while it was read: while the build info is that
 * file, bin/run.js knows its hash without hashing it.
 */
async function tscBuildId() {
  const file = join(repo, 'dist', 'tsconfig.tsbuildinfo')
  const key = async () => {
    const s = await stat(file)
    return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`
  }
  try {
    const before = await key()
    const id = createHash('sha256').update(await readFile(file)).digest('hex').slice(0, 16)
    return before === (await key()) ? `${id} ${before}` : id
  } catch {
    return 'none'
  }
}

const outputBytes = (metafile) => Object.values(metafile.outputs).reduce((sum, o) => sum + o.bytes, 0)

/** Writes outfile (the launcher's part) and, under chunks, one file per command and per big library. */
export async function buildBundle({outfile = BUNDLE, chunks = CHUNKS, minify = true} = {}) {
  const started = performance.now()
  const tscBuild = await tscBuildId()
  await mkdir(dirname(outfile), {recursive: true})
  const pjson = await embeddedPjson()
  const files = await commandFiles()
  const manifest = await manifestFor(pjson, files)
  // parsed on first use: a 12 KB object literal costs ~0.6 ms to build at every start, CRI or not
  const criProto = `Object.defineProperty(globalThis, 'nodedocCriProto', {configurable: true, get() { const value = JSON.parse(${JSON.stringify(JSON.stringify(await criProtoJson()))}); Object.defineProperty(globalThis, 'nodedocCriProto', {value, configurable: true}); return value }});`
  const entry = {stdin: {contents: entrySource({pjson, manifest, files}), resolveDir: repo, sourcefile: 'nodedoc-bundle-entry.js', loader: 'js'}, outfile}
  const core = await build({...COMMON, ...entry, minify, plugins: [startTrims], banner: {js: [META_URL, LAZY].join('\n')}})
  // every chunk takes oclif from the launcher's part: one oclif, one Command class, one config
  const entryPoints = Object.entries({...files, ...hookFiles()}).map(([key, file]) => ({in: file, out: chunkName(key)}))
  // what bin/run.js starts before loading the CLI for a live `svc NAME` (src/svc/early.ts)
  entryPoints.push({in: join(repo, 'dist', 'src', 'svc', 'early.js'), out: 'svc-early'})
  const commandChunks = await build({...COMMON, entryPoints, outdir: chunks, outExtension: {'.js': '.cjs'}, minify, external: [...COMMON.external, '@oclif/core', ...LAZY_MODULES], plugins: [lazyModules, startTrims], banner: {js: [META_URL, LAZY, criProto].join('\n')}})
  // the launcher's direct paths (src/cli/direct.ts, direct-ps.ts, direct-sandbox.ts, direct-svc.ts):
  // pod, ps, sandbox create and svc without oclif, so they must not take oclif in; each its own
  // file, so none loads another
  const vendor = Object.fromEntries(LAZY_MODULES.map((name) => [name, vendorName(name)]))
  const direct = await build({...COMMON, entryPoints: ['direct', 'direct-ps', 'direct-sandbox', 'direct-svc'].map((name) => ({in: join(repo, 'dist', 'src', 'cli', `${name}.js`), out: name})), outdir: chunks, outExtension: {'.js': '.cjs'}, minify, external: [...COMMON.external, ...LAZY_MODULES], plugins: [lazyModules, startTrims], banner: {js: [META_URL, LAZY, criProto].join('\n')}, footer: {js: `module.exports.vendor = ${JSON.stringify(vendor)};`}})
  const oclifIn = Object.keys(direct.metafile.inputs).filter((path) => /[\\/]@oclif[\\/]/.test(path))
  if (oclifIn.length > 0) throw new Error(`a direct path's file (dist/nodedoc/direct*.cjs) takes oclif in (${oclifIn[0]}): the direct paths must start without it`)
  const vendorEntries = LAZY_MODULES.map((name) => ({in: `nodedoc-vendor:${name}`, out: vendorName(name)}))
  const vendorChunks = await build({...COMMON, entryPoints: vendorEntries, outdir: chunks, outExtension: {'.js': '.cjs'}, minify, plugins: [vendorEntry], banner: {js: META_URL}})
  const rest = {outputFiles: [...commandChunks.outputFiles, ...direct.outputFiles, ...vendorChunks.outputFiles], metafile: {outputs: {...commandChunks.metafile.outputs, ...direct.metafile.outputs, ...vendorChunks.metafile.outputs}}}
  await mkdir(chunks, {recursive: true})
  // a command removed since the last build leaves no file behind
  const kept = new Set(rest.outputFiles.map((f) => f.path))
  for (const name of await readdir(chunks)) if (!kept.has(join(chunks, name.replace(/(\.[0-9a-f]+)?\.v8cache$/, '')))) await rm(join(chunks, name), {force: true})
  // the launcher's part last: once it names this build, every file it loads is there
  await writeOutputs([...rest.outputFiles, ...core.outputFiles], outfile, tscBuild, new Set([...commandChunks.outputFiles, ...direct.outputFiles].map((f) => f.path)))
  return {outfile, chunks, bytes: outputBytes(core.metafile), chunkBytes: outputBytes(rest.metafile), ms: Math.round(performance.now() - started)}
}

/**
 * Runs a few commands once on the bundled example snapshot through the given launcher (bin/run.js
 * or a copy of it beside another dist/), so that the bundle files they load get their V8 code
 * caches now rather than from whichever run comes first: the first run here is a `pod`, so the
 * launcher part's cache holds the path every command takes, not only `--version`'s. The npm
 * package and the single executable carry these caches; a Node whose V8 differs refuses them and
 * makes its own on first use. A run that fails just trains less.
 */
export function trainCodeCaches(launcher = join(repo, 'bin', 'run.js'), node = process.execPath) {
  const snapshot = join(repo, 'examples', 'containerd-node')
  const pod = existsSync(join(snapshot, 'meta.json')) ? ['core-k8s', '-n', 'default', '--from', snapshot] : undefined
  // `sandbox create --dry-run` reads the manifest, the machine's cgroups and tools and plans every
  // step, as a create does before its first step, and makes nothing (nor needs root)
  const work = mkdtempSync(join(tmpdir(), 'nodedoc-train-'))
  const manifest = join(work, 'pod.yaml')
  writeFileSync(manifest, SANDBOX_TRAINING_POD)
  // `svc NAME` on saved rules: svc.cjs, svc-early.cjs and direct-svc.cjs get their caches (parse,
  // trace, JSON); a live run's gather is not trained (it would list the build machine's rules)
  const rules = join(work, 'rules.save')
  writeFileSync(rules, SVC_TRAINING_RULES)
  // ps through oclif (ps.cjs gets its cache), then through the direct path (direct-ps.cjs's)
  const psViaOclif = ['ps', '--from', snapshot]
  // the first `pod` goes through oclif (NODEDOC_DIRECT=0): pod.cjs gets its cache, and the launcher
  // part's holds oclif's start as every command makes it; the second is the direct path's
  const runs = [
    ...(pod ? [['pod', ...pod], ['pod', ...pod]] : []),
    ['--version'],
    ['--help'],
    ['pod', '--help'],
    ...(pod ? [['pod', ...pod, '-o', 'yaml'], psViaOclif, ['ps', '-A', '--from', snapshot], ['net', '--from', snapshot], ['doctor', '--from', snapshot], ['logs', 'core-k8s', '-n', 'default', '--tail', '1', '--from', snapshot]] : []),
    ['svc', 'default/web', '--iptables-save', rules, '-o', 'json'],
    ['svc', 'default/web', '--iptables-save', rules, '-o', 'json'],
    ['sandbox', 'create', '-f', manifest, '--dry-run'],
    ['sandbox', 'create', '-f', manifest, '--dry-run'],
  ]
  // through oclif's start: the first pod, the first ps, the first svc and the first dry run (pod.cjs,
  // ps.cjs, svc.cjs and create.cjs get their caches; the second of each is the direct path's)
  const throughOclif = new Set([...(pod ? [0, runs.indexOf(psViaOclif)] : []), runs.length - 4, runs.length - 2])
  try {
    runs.forEach((args, i) => {
      spawnSync(node, [launcher, ...args], {stdio: 'ignore', env: {...process.env, NODEDOC_BUNDLE: '1', NODEDOC_CODE_CACHE: 'write', NO_COLOR: '1', CONTAINER_RUNTIME_ENDPOINT: '', NODEDOC_DIRECT: throughOclif.has(i) ? '0' : '1'}})
    })
  } finally {
    rmSync(work, {recursive: true, force: true})
  }
}

/** The rules the svc training run traces: kube-proxy's (iptables mode) for one service with one endpoint. */
const SVC_TRAINING_RULES = [
  '*mangle', ':KUBE-IPTABLES-HINT - [0:0]', 'COMMIT',
  '*nat', ':PREROUTING ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]', ':KUBE-SERVICES - [0:0]', ':KUBE-NODEPORTS - [0:0]',
  ':KUBE-MARK-MASQ - [0:0]', ':KUBE-POSTROUTING - [0:0]', ':KUBE-SVC-TRAININGAAAAAAAAA - [0:0]', ':KUBE-SEP-TRAININGAAAAAAAAA - [0:0]',
  '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
  '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
  '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
  '-A KUBE-SERVICES -m comment --comment "default/web:http cluster IP" -m tcp -p tcp -d 10.96.0.10 --dport 80 -j KUBE-SVC-TRAININGAAAAAAAAA',
  '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
  '-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000',
  '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
  '-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000',
  '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE',
  '-A KUBE-SVC-TRAININGAAAAAAAAA -m comment --comment "default/web:http cluster IP" -m tcp -p tcp -d 10.96.0.10 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ',
  '-A KUBE-SVC-TRAININGAAAAAAAAA -m comment --comment "default/web:http -> 10.128.0.6:8080" -j KUBE-SEP-TRAININGAAAAAAAAA',
  '-A KUBE-SEP-TRAININGAAAAAAAAA -m comment --comment default/web:http -s 10.128.0.6 -j KUBE-MARK-MASQ',
  '-A KUBE-SEP-TRAININGAAAAAAAAA -m comment --comment default/web:http -m tcp -p tcp -j DNAT --to-destination 10.128.0.6:8080',
  'COMMIT', '',
].join('\n')

/** The pod the sandbox training run plans: one busybox container sleeping. */
const SANDBOX_TRAINING_POD = 'apiVersion: v1\nkind: Pod\nmetadata: {name: nodedoc-training}\nspec:\n  containers:\n  - {name: main, image: busybox, command: [sleep, \'3600\']}\n'

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const {outfile, bytes, chunks, chunkBytes, ms} = await buildBundle()
  trainCodeCaches()
  process.stdout.write(`bundle: ${outfile} (${(bytes / 1024).toFixed(0)} KiB) and ${chunks}/ (${(chunkBytes / 1024).toFixed(0)} KiB in all), ${ms} ms\n`)
}
