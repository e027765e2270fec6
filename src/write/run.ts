// Runs one program of a sandbox step: argument array, a timeout, the C locale so that the
// error text we match is the English one.

import * as execa from 'execa'

export const RUN_TIMEOUT_MS = 15_000

/** Why a step failed, in one line. */
export function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? ''
}

export function errno(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException)?.code
}

/** Runs argv (stdin: `input`, or nothing); throws one line naming the program and what it said. */
export async function run(argv: string[], input?: string): Promise<void> {
  const io = input === undefined ? {stdin: 'ignore' as const} : {input}
  let result = await execa.execa(argv[0], argv.slice(1), {reject: false, timeout: RUN_TIMEOUT_MS, ...io, env: {LC_ALL: 'C'}})
  // two sandboxes putting the same gateway /32 on their veths at the same instant can race in
  // the kernel's local table (EEXIST); that line only replaces, so the batch goes on from the
  // line that failed (`ip` names it: "Command failed -:N"), the lines before it being done
  let lines = input?.split('\n') ?? []
  const failedAt = () => Number(/Command failed -:(\d+)/.exec(String(result.stderr))?.[1] ?? 0)
  for (let retry = 0; retry < 3 && result.failed && argv.includes('-batch') && /File exists/.test(String(result.stderr)) && /^(address|route) replace /.test(lines[failedAt() - 1] ?? ''); retry++) {
    lines = lines.slice(failedAt() - 1)
    await new Promise((r) => setTimeout(r, 20 + Math.random() * 30))
    result = await execa.execa(argv[0], argv.slice(1), {reject: false, timeout: RUN_TIMEOUT_MS, input: lines.join('\n'), env: {LC_ALL: 'C'}})
  }
  if ((result as {code?: string}).code === 'ENOENT') throw new Error(`${argv[0]}: not installed`)
  if (result.failed) throw new Error(`${argv.join(' ')}: ${firstLine(String(result.stderr || result.stdout || result.shortMessage))}`)
}

/** Runs an undo's argv; what is already gone (`gone` matches the error) is not a problem. */
export async function runUndo(argv: string[], gone: RegExp): Promise<string[]> {
  const result = await execa.execa(argv[0], argv.slice(1), {reject: false, timeout: RUN_TIMEOUT_MS, stdin: 'ignore', env: {LC_ALL: 'C'}})
  if (result.failed && !gone.test(String(result.stderr))) return [`${argv.join(' ')}: ${firstLine(String(result.stderr))}`]
  return []
}
