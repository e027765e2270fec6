import {existsSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {execa} from 'execa'

const HERE = dirname(fileURLToPath(import.meta.url))
/** The repository root, from test/e2e/node under vitest or dist/test/e2e/node when compiled for the npm scripts. */
export const REPO = resolve(HERE, HERE.includes('/dist/test/') ? '../../../..' : '../../..')

/** `node bin/run.js ...` as a user runs it; the CLI must have been built (npx tsc -p .). */
export async function nodedoc(args: string[]): Promise<{stdout: string; stderr: string; exitCode: number}> {
  if (!existsSync(join(REPO, 'dist/commands/index.js'))) throw new Error('build nodedoc first: npx tsc -p .')
  const result = await execa('node', [join(REPO, 'bin/run.js'), ...args], {reject: false, cwd: REPO, env: {NO_COLOR: '1'}})
  return {stdout: String(result.stdout), stderr: String(result.stderr), exitCode: result.exitCode ?? 1}
}

export async function nodedocJson<T>(args: string[]): Promise<T> {
  const result = await nodedoc([...args, '-o', 'json'])
  if (result.exitCode !== 0) throw new Error(`nodedoc ${args.join(' ')} exited ${result.exitCode}: ${result.stderr}`)
  return JSON.parse(result.stdout) as T
}
