// Start-up for the bundled CLI (dist/nodedoc.cjs) and the single executable built from it.
//
// A plain oclif start reads package.json from disk, resolves every plugin listed there in
// node_modules and imports each command module by path. A bundle has no node_modules and a
// single executable has no files at all, so here every piece arrives already in memory:
// package.json is embedded at build time, the command classes (ours and the plugins') are
// static imports, and plugin hooks are functions. oclif then does everything else as usual
// (flag parsing, help, topics, --version) through its public run().

import {type Command, Config, Errors, Plugin, type Interfaces, flush, handle, run, ux} from '@oclif/core'

/** A hook function as a plugin exports it (oclif calls it with `this` set to a hook context). */
export type BundledHook = (this: unknown, options: Record<string, unknown>) => unknown

export interface Bundled {
  /** package.json as it was at build time. */
  pjson: Interfaces.PJSON
  /** Where the CLI lives; oclif only uses it for messages and for an optional oclif.manifest.json. */
  root: string
  /** Every command by id, ours and the bundled plugins'. */
  commands: Record<string, Command.Class>
  /** Hook functions by event (e.g. command_not_found from @oclif/plugin-not-found). */
  hooks: Record<string, BundledHook[]>
}

/** Loads oclif from what the bundle carries and runs argv; exit code and errors as `oclif execute`. */
export async function launch(bundled: Bundled, argv = process.argv.slice(2)): Promise<void> {
  try {
    const root = await rootPlugin(bundled)
    installHooks(bundled.hooks)
    await run(argv, {root: bundled.root, pjson: root.pjson, plugins: new Map([[root.name, root]])})
    await flush()
  } catch (error) {
    await handle(error as Error)
  }
}

/**
 * The root plugin, loaded from the in-memory command table. oclif's explicit strategy would
 * import package.json's `oclif.commands.target` by path; the loaded table is handed over
 * instead (oclif keeps it in the plugin's command cache), so no file is ever imported.
 */
async function rootPlugin(bundled: Bundled): Promise<Plugin> {
  // plugins are already inside the bundle: oclif must not go looking for them on disk
  const pjson: Interfaces.PJSON = {
    ...bundled.pjson,
    oclif: {...bundled.pjson.oclif, plugins: [], devPlugins: [], hooks: {}, commands: {strategy: 'explicit', target: './bundled', identifier: 'COMMANDS'}},
  }
  const plugin = new Plugin({isRoot: true, root: bundled.root, pjson, name: pjson.name, type: 'core'})
  Object.assign(plugin, {commandCache: bundled.commands})
  await plugin.load()
  if (plugin.commandIDs.length !== Object.keys(bundled.commands).length) {
    throw new Error(`bundled oclif dropped commands (${plugin.commandIDs.length} of ${Object.keys(bundled.commands).length}): rebuild with a matching @oclif/core`)
  }
  return plugin
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
