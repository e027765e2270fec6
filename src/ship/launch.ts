// Start-up for the bundled CLI (dist/nodedoc.cjs) and the single executable built from it.
//
// A plain oclif start reads package.json from disk, resolves every plugin listed there in
// node_modules and imports each command module by path. A bundle has no node_modules and a
// single executable has no files at all, so here every piece arrives already in memory:
// package.json and oclif's command manifest are embedded at build time, each command class
// comes from a function that loads it on first use, and plugin hooks are functions. oclif then
// does everything else as usual (flag parsing, help, topics, --version) through its public
// run(). Nothing a command imports is loaded until that command runs: `--version` and
// `--help` read only the manifest.

import {type Command, Config, Errors, Plugin, type Interfaces, flush, handle, run, ux} from '@oclif/core'

/** A hook function as a plugin exports it (oclif calls it with `this` set to a hook context). */
export type BundledHook = (this: unknown, options: Record<string, unknown>) => unknown

export interface Bundled {
  /** package.json as it was at build time. */
  pjson: Interfaces.PJSON
  /** Where the CLI lives; oclif only uses it for messages. */
  root: string
  /** oclif's manifest of the root plugin (every command's id, flags, args, help), made at build time. */
  manifest: Interfaces.Manifest
  /** Every command by id, ours and the bundled plugins', as a function that loads its class. */
  commands: Record<string, () => Command.Class>
  /** Hook functions by event (e.g. command_not_found from @oclif/plugin-not-found). */
  hooks: Record<string, BundledHook[]>
}

/** Loads oclif from what the bundle carries and runs argv; exit code and errors as `oclif execute`. */
export async function launch(bundled: Bundled, argv = process.argv.slice(2)): Promise<void> {
  try {
    checkNodeVersion(bundled.pjson)
    const root = await rootPlugin(bundled)
    installHooks(bundled.hooks)
    skipUserTheme()
    await run(argv, {root: bundled.root, pjson: root.pjson, plugins: new Map([[root.name, root]])})
    await flush()
  } catch (error) {
    await handle(error as Error)
  }
}

/**
 * oclif's own start warns when Node is older than package.json's engines allow; the bundle
 * leaves that check out (it would read package.json from disk and load semver), so it is made
 * here from the embedded package.json, for the `>=MAJOR` form nodedoc's engines use.
 */
export function checkNodeVersion(pjson: Interfaces.PJSON, version = process.versions.node): void {
  const wanted = /^>=\s*(\d+)(?:\.\d+)*$/.exec(pjson.engines?.node?.trim() ?? '')?.[1]
  if (wanted && Number(version.split('.')[0]) < Number(wanted)) {
    process.emitWarning(`Node version must be ${pjson.engines!.node} to use this CLI. Current node version: ${version}`)
  }
}

/**
 * The root plugin. oclif's explicit strategy would import package.json's
 * `oclif.commands.target` by path and build its manifest by loading every command class; here
 * the manifest is the one built with the bundle, and the command table (oclif's command cache)
 * loads a class only when oclif asks for it, which it does only to run that command.
 */
async function rootPlugin(bundled: Bundled): Promise<Plugin> {
  const manifest = bundled.manifest
  const ids = Object.keys(manifest.commands)
  if (ids.length !== Object.keys(bundled.commands).length || ids.some((id) => !(id in bundled.commands))) {
    throw new Error('bundled oclif manifest does not match the commands: rebuild the bundle')
  }
  const plugin = new Plugin({isRoot: true, root: bundled.root, pjson: rootPjson(bundled.pjson), name: bundled.pjson.name, type: 'core'})
  const table: Record<string, Command.Class> = {}
  for (const [id, load] of Object.entries(bundled.commands)) {
    let loaded: Command.Class | undefined
    Object.defineProperty(table, id, {enumerable: true, get: () => (loaded ??= load())})
  }
  Object.assign(plugin, {
    commandCache: table,
    // what oclif's own _manifest() does with an oclif.manifest.json it finds on disk
    _manifest: async () => {
      Object.assign(plugin, {commandIDs: ids, hasManifest: true})
      return manifest
    },
  })
  await withCodePointCompare(ids, () => plugin.load())
  return plugin
}

/** package.json for the root plugin: its plugins are already inside the bundle, so oclif must not look for them on disk. */
function rootPjson(pjson: Interfaces.PJSON): Interfaces.PJSON {
  return {...pjson, oclif: {...pjson.oclif, plugins: [], devPlugins: [], hooks: {}, commands: {strategy: 'explicit', target: './bundled', identifier: 'COMMANDS'}}}
}

/** Command ids whose code-point order is ICU's root collation order too: punctuation, then letters. */
const PLAIN_ID = /^[a-z:-]*$/

/**
 * oclif's Plugin.load() sorts the command ids with localeCompare, and the first localeCompare
 * of a process loads ICU's collation data: ~6 ms, a tenth of Node's own start, on every run.
 * For ids of lowercase letters, '-' and ':' the collation's order is plain code-point order
 * ('-' < ':' < letters, shorter prefix first), so while load() runs, comparing two such strings
 * skips the collator; any other comparison, and any other time, is String's own.
 */
export async function withCodePointCompare<T>(ids: string[], fn: () => Promise<T>): Promise<T> {
  if (!ids.every((id) => PLAIN_ID.test(id))) return fn()
  const localeCompare = String.prototype.localeCompare
  String.prototype.localeCompare = function (this: string, that: string, ...rest: unknown[]) {
    if (rest.length === 0 && typeof that === 'string' && PLAIN_ID.test(this) && PLAIN_ID.test(that)) return this < that ? -1 : this > that ? 1 : 0
    return localeCompare.call(this, that, ...(rest as []))
  } as typeof localeCompare
  try {
    return await fn()
  } finally {
    String.prototype.localeCompare = localeCompare
  }
}

/**
 * The manifest oclif would write to oclif.manifest.json for these command classes: made at build
 * time by oclif itself (the same Plugin.load() a plain start runs without a manifest).
 */
export async function buildManifest(pjson: Interfaces.PJSON, root: string, commands: Record<string, Command.Class>): Promise<Interfaces.Manifest> {
  const plugin = new Plugin({isRoot: true, root, pjson: rootPjson(pjson), name: pjson.name, type: 'core', ignoreManifest: true})
  Object.assign(plugin, {commandCache: commands})
  await plugin.load()
  if (plugin.commandIDs.length !== Object.keys(commands).length) {
    throw new Error(`oclif dropped commands while building the manifest (${plugin.commandIDs.length} of ${Object.keys(commands).length})`)
  }
  return JSON.parse(JSON.stringify(plugin.manifest)) as Interfaces.Manifest
}

/**
 * As with user-installed plugins (bin/run.js), a user's theme.json is not read: nodedoc runs as
 * root on nodes and takes nothing from a user's folders. oclif would read it at every start
 * (what NODEDOC_DISABLE_THEME=true also skips); the package.json theme, if one is ever set, stays.
 */
function skipUserTheme(): void {
  const original = Config.prototype.loadTheme
  Config.prototype.loadTheme = async function (this: Config) {
    if (!this.pjson.oclif.theme) return undefined
    return original.call(this)
  }
}

/**
 * oclif loads hooks by importing a file path from a plugin's package.json; bundled hooks are
 * already functions, so events that have one are answered here with the same context oclif
 * builds, and every other event goes to oclif as before.
 */
function installHooks(hooks: Record<string, BundledHook[]>): void {
  const original = Config.prototype.runHook
  const runHook = async function (this: Config, event: string, opts: Record<string, unknown>, timeout?: number, captureErrors?: boolean) {
    const fns = hooks[event]
    if (!fns?.length) return original.call(this, event as never, opts as never, timeout, captureErrors)
    // the hook context carries the Config the hook runs for, as oclif's own context does
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const config = this
    const context = {
      config,
      debug: () => undefined,
      error: (message: string | Error, options: {exit?: number} = {}) => Errors.error(message, options as {exit: number}),
      exit: (code = 0) => Errors.exit(code),
      log: (message = '', ...args: unknown[]) => ux.stdout(message, ...(args as string[])),
      warn: (message: string | Error) => Errors.warn(message),
    }
    const result: {successes: Array<{plugin: unknown; result: unknown}>; failures: Array<{plugin: unknown; error: Error}>} = {successes: [], failures: []}
    for (const fn of fns) {
      try {
        result.successes.push({plugin: config.getPluginsList()[0], result: await fn.call(context, {...opts, config, context})})
      } catch (error) {
        result.failures.push({plugin: config.getPluginsList()[0], error: error as Error})
        // as oclif: a hook's error with a non-zero exit stops the run unless errors are captured
        const exit = (error as {oclif?: {exit?: number}}).oclif?.exit
        if (!captureErrors && exit !== undefined && exit !== 0) throw error
      }
    }
    return result
  }
  Config.prototype.runHook = runHook as typeof Config.prototype.runHook
}
