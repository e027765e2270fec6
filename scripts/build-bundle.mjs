#!/usr/bin/env node
// Bundles the compiled CLI (dist/, from `tsc`) with every dependency into one CommonJS file,
// dist/nodedoc.cjs: one file to read and compile at start instead of hundreds, no folder scan,
// no package.json lookups. bin/run.js uses it when it is at least as new as the tsc output;
// scripts/build-bin.mjs injects it into a single executable. CommonJS because Node 20's
// single-executable support runs only a CommonJS main script.
//
// Plugins (help, autocomplete, not-found) are imported here by file, since their package
// "exports" only name an index, and handed to src/ship/launch.ts as classes and functions.

import {build} from 'esbuild'
import {mkdir, readFile, rename, writeFile} from 'node:fs/promises'
import {createRequire} from 'node:module'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(join(repo, 'package.json'))
// package "exports" hide package.json; the folder two levels above the main file is the package
const pluginDir = (name) => resolve(dirname(require.resolve(name)), '..')
export const BUNDLE = join(repo, 'dist', 'nodedoc.cjs')

/** The plugins oclif would load from package.json's oclif.plugins, as files to import. */
function pluginImports() {
  const help = pluginDir('@oclif/plugin-help')
  const complete = pluginDir('@oclif/plugin-autocomplete')
  const notFound = pluginDir('@oclif/plugin-not-found')
  return {
    commands: {
      help: join(help, 'lib/commands/help.js'),
      autocomplete: join(complete, 'lib/commands/autocomplete/index.js'),
      'autocomplete:create': join(complete, 'lib/commands/autocomplete/create.js'),
      'autocomplete:script': join(complete, 'lib/commands/autocomplete/script.js'),
    },
    // loaded on first use: "did you mean" pulls in a prompt library nobody needs at start
    lazyHooks: {command_not_found: join(notFound, 'lib/index.js')},
  }
}

async function entrySource() {
  const pjson = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8'))
  // what oclif reads at run time; scripts and devDependencies stay behind
  const embedded = {name: pjson.name, version: pjson.version, description: pjson.description, type: pjson.type, license: pjson.license, bin: pjson.bin, engines: pjson.engines, oclif: pjson.oclif, dependencies: pjson.dependencies}
  const {commands, lazyHooks} = pluginImports()
  const lines = [
    `import {launch} from './dist/src/ship/launch.js'`,
    `import {COMMANDS} from './dist/commands/index.js'`,
  ]
  const entries = []
  Object.entries(commands).forEach(([id, file], i) => {
    lines.push(`import Plugin${i} from ${JSON.stringify(file)}`)
    entries.push(`${JSON.stringify(id)}: Plugin${i}`)
  })
  const hooks = Object.entries(lazyHooks).map(([event, file]) =>
    `${JSON.stringify(event)}: [async function (options) { const m = await import(${JSON.stringify(file)}); return m.default.call(this, options) }]`)
  lines.push(
    `const sea = (() => { try { return require('node:sea').isSea() } catch { return false } })()`,
    // in a single executable the "root" is the folder holding it; else the package folder above dist/
    `const root = sea ? require('node:path').dirname(process.execPath) : require('node:path').resolve(__dirname, '..')`,
    `launch({pjson: ${JSON.stringify(embedded)}, root, commands: {${entries.join(', ')}, ...COMMANDS}, hooks: {${hooks.join(', ')}}})`,
  )
  return lines.join('\n')
}

// Runs before any bundled module. In a single executable, require() reaches built-in modules
// only (and warns on anything else); the bundle's few optional requires of files (typescript
// for ts-node, a package.json for an engine check) then fail quietly as "not found", which
// each of them already handles.
const BANNER = `#!/usr/bin/env node
var __nodedoc_import_meta_url = require('node:url').pathToFileURL(__filename).href;
if ((() => { try { return require('node:sea').isSea() } catch { return false } })()) require = ((builtin, isBuiltin) => (id) => {
  if (isBuiltin(id)) return builtin(id)
  throw Object.assign(new Error('Cannot find module ' + id + ' (not inside the nodedoc executable)'), {code: 'MODULE_NOT_FOUND'})
})(require, require('node:module').isBuiltin);
var __nodedocLazy = (load) => { let loaded; const real = () => (loaded ??= load()); return new Proxy({}, {get: (_, key) => real()[key], has: (_, key) => key in real(), ownKeys: () => Reflect.ownKeys(real()), getOwnPropertyDescriptor: (_, key) => Object.getOwnPropertyDescriptor(real(), key)}) };`

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
 * Modules that cost more to load than a whole `nodedoc --version` should, and that only some
 * commands use (the CRI client: grpc and protobufjs, ~30 ms): in the bundle, a namespace
 * import of one of them becomes an object that loads the module on first use. The sources keep
 * their plain imports; this changes only when the bundled module runs, not what it does.
 */
const LAZY_MODULES = ['@grpc/grpc-js', '@grpc/proto-loader']

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

export async function buildBundle({outfile = BUNDLE, minify = true} = {}) {
  const started = performance.now()
  await mkdir(dirname(outfile), {recursive: true})
  const result = await build({
    stdin: {contents: await entrySource(), resolveDir: repo, sourcefile: 'nodedoc-bundle-entry.js', loader: 'js'},
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile,
    minify,
    keepNames: true, // oclif and our errors print class names
    legalComments: 'linked',
    metafile: true,
    plugins: [lazyModules],
    write: false, // written below, each file by rename: a CLI starting meanwhile never reads half a bundle
    // only for running TypeScript sources through ts-node in development; oclif copes without it
    external: ['typescript', 'ts-node'],
    logLevel: 'warning',
    // ESM code that asks where it lives (import.meta.url) gets the bundle's own file
    define: {'import.meta.url': '__nodedoc_import_meta_url'},
    banner: {js: BANNER + `\nglobalThis.nodedocCriProto = ${JSON.stringify(await criProtoJson())};`},
  })
  for (const file of result.outputFiles) {
    const partial = `${file.path}.${process.pid}.partial`
    await writeFile(partial, file.contents, {mode: file.path === outfile ? 0o755 : 0o644})
    await rename(partial, file.path)
  }
  const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0)
  return {outfile, bytes, ms: Math.round(performance.now() - started), metafile: result.metafile}
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const {outfile, bytes, ms} = await buildBundle()
  process.stdout.write(`bundle: ${outfile} (${(bytes / 1024).toFixed(0)} KiB, ${ms} ms)\n`)
}
