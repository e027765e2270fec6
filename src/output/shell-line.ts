/**
 * An argv as one line a POSIX shell would split back into the same words (--explain, --dry-run).
 * Braces are quoted too: bash expands {a,b}.
 */
export function shellLine(argv: string[]): string {
  return argv.map((word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`)).join(' ')
}
