// What people paste around rule dumps: the prompt and command above the output, their own `#` comments,
// an author's cut (`....`), a `// note` after a rule, markdown fences, prose. Rules dumps read from a
// file are often such pastes; parsers skip these lines and say what they skipped, once per kind.

/** Kinds of lines that are not rules, as a reader names them. */
export type SkippedKind = 'command' | 'comment' | 'cut' | 'note' | 'fence' | 'text'

export interface SkippedLines {
  kind: SkippedKind
  count: number
  /** 1-based line of the first one */
  firstLine: number
  /** That first line, cut to 80 characters (untrusted text: shown escaped by the renderer). */
  example: string
}

const KIND_WORDS: Record<SkippedKind, [string, string]> = {
  command: ['shell prompt or command line', 'shell prompt or command lines'],
  comment: ["author's comment line", "author's comment lines"],
  cut: ["author's cut", "author's cuts"],
  note: ['trailing note after a rule (the rule is kept)', 'trailing notes after rules (the rules are kept)'],
  fence: ['markdown fence', 'markdown fences'],
  text: ['line of other text', 'lines of other text'],
}

/** Programs whose command lines appear above pasted output. */
const COMMANDS = new Set([
  'iptables', 'iptables-save', 'iptables-legacy', 'iptables-legacy-save', 'iptables-nft', 'iptables-nft-save',
  'ip6tables', 'ip6tables-save', 'ip6tables-legacy-save', 'ip6tables-nft-save', 'nft', 'ipvsadm', 'ipset',
  'sudo', 'kubectl', 'k', 'oc', 'crictl', 'docker', 'nsenter', 'grep', 'egrep', 'fgrep', 'cat', 'less', 'head',
  'tail', 'sed', 'awk', 'ss', 'netstat', 'ip', 'conntrack', 'watch', 'ssh', 'minikube', 'kind', 'chroot', 'sh',
  'bash', 'su', 'for', 'echo', 'tee',
])

/** A shell prompt before a command: `[root@node ~]# `, `root@node:~# `, `controlplane $ `, `$ `, `node:/# `. */
const PROMPT = /^(?:\[[^\]\n]*\]\s?[#$%>]|[\w.@~:/-]*[#$%>]|[\w.@-]+\s+[#$%>])\s+(\S+)/
const CUT = /^(?:\.{3,}|…+|\[\s*\.{3}\s*\]|<\s*snip\s*>|\(\s*\.{3}\s*\)|(?:\.{3}\s*)?\(?(?:snip(?:ped)?|truncated|more (?:rules|lines|output))\)?(?:\s*\.{3})?)$/i

function commandWord(word: string): boolean {
  return COMMANDS.has(word.replace(/^\(/, ''))
}

/** The kind of a line that is not a rule (already trimmed, not empty). */
export function skippedKind(trimmed: string): SkippedKind {
  if (trimmed.startsWith('```') || trimmed.startsWith('~~~')) return 'fence'
  if (CUT.test(trimmed)) return 'cut'
  const prompt = PROMPT.exec(trimmed)
  // "# text" is a root prompt only when a command follows; else the author's comment
  if (prompt && (!trimmed.startsWith('#') || commandWord(prompt[1]))) return 'command'
  if (trimmed.startsWith('#')) return 'comment'
  if (commandWord(trimmed.split(/\s+/, 1)[0])) return 'command'
  return 'text'
}

const NOTE_MARK = /\/\/|#/

/**
 * Where a note after a rule starts (` // note`, ` # note`), outside double quotes; -1 when there is none.
 * Rules never hold either outside a quoted comment.
 */
export function trailingNoteAt(line: string): number {
  // nearly every rule has neither: a native search first, the quote-aware scan only when needed
  if (!NOTE_MARK.test(line)) return -1
  let quoted = false
  for (let i = 1; i < line.length; i++) {
    const c = line[i]
    if (c === '\\' && quoted) {
      i++
      continue
    }
    if (c === '"') quoted = !quoted
    if (quoted) continue
    const before = line[i - 1]
    if ((before === ' ' || before === '\t') && ((c === '/' && line[i + 1] === '/') || c === '#')) return i
  }
  return -1
}

/** Counts skipped lines per kind, in the order kinds were first met. */
export class SkipTally {
  private readonly byKind = new Map<SkippedKind, SkippedLines>()

  add(kind: SkippedKind, line: number, text: string): void {
    const known = this.byKind.get(kind)
    if (known) known.count++
    else this.byKind.set(kind, {kind, count: 1, firstLine: line, example: text.slice(0, 80)})
  }

  get size(): number {
    return this.byKind.size
  }

  list(): SkippedLines[] {
    return [...this.byKind.values()]
  }
}

/** One note per kind: "skipped 3 shell prompt or command lines (first at line 1: ...)". */
export function skippedNote(s: SkippedLines): string {
  const [one, many] = KIND_WORDS[s.kind]
  const where = s.count === 1 ? `line ${s.firstLine}` : `first at line ${s.firstLine}`
  return `${s.kind === 'note' ? 'dropped' : 'skipped'} ${s.count} ${s.count === 1 ? one : many} (${where}: ${JSON.stringify(s.example)})`
}
