// What reaches a terminal from text others control (a process's argv, log lines, folder
// names, rules files, other nodes' reports) is shown, never obeyed: control characters are
// written out as escapes, so an ESC/OSC sequence cannot retitle the window, clear the screen
// or write the clipboard (OSC 52), and a newline cannot forge a table row. procps prints "?";
// nodedoc prints what the byte was ("\x1b", "\n"), so the operator sees the attempt.
// Backslashes are left as they are: a literal "\x1b" in the text is harmless on a terminal.
// JSON and YAML output stay exact (src/output/output.ts).

// C0 and C1 controls, DEL, and the Unicode controls that reorder or break lines (bidi
// overrides and isolates, the line and paragraph separators)
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g
const HAS_CONTROL = new RegExp(CONTROL.source)
const NAMED: Record<string, string> = {'\n': '\\n', '\r': '\\r', '\t': '\\t'}

function escapeOne(c: string): string {
  const named = NAMED[c]
  if (named) return named
  const code = c.charCodeAt(0)
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
}

/** Every control character in text written out as an escape. keep: characters left as they are (e.g. "\t" in log lines). */
export function escapeControl(text: string, keep = ''): string {
  return text.replace(CONTROL, (c) => (keep.includes(c) ? c : escapeOne(c)))
}

/** Text others control inside a line nodedoc composes: tabs and line breaks stay, every other control character is escaped. */
export function printable(text: string): string {
  return escapeControl(text, '\t\n')
}

/** One line of untrusted text (a line break escaped, a tab kept), cut to `max` characters. */
export function printableLine(text: string, max = 200): string {
  const line = escapeControl(text, '\t')
  return line.length > max ? `${line.slice(0, max - 1)}…` : line
}

/**
 * Every string inside a record (arrays and plain objects, at any depth) escaped: what a table view is given.
 * Copy on write: a part with nothing to escape is the same object (a 10k-service report is not copied to find no control character).
 */
export function escapeDeep<T>(value: T): T {
  if (typeof value === 'string') return (HAS_CONTROL.test(value) ? escapeControl(value) : value) as T
  if (Array.isArray(value)) {
    let out: unknown[] | undefined
    for (let i = 0; i < value.length; i++) {
      const v = escapeDeep(value[i])
      if (v !== value[i]) (out ??= value.slice())[i] = v
    }
    return (out ?? value) as T
  }
  if (value !== null && typeof value === 'object') {
    const proto = Object.getPrototypeOf(value)
    if (proto !== Object.prototype && proto !== null) return value
    let out: Record<string, unknown> | undefined
    for (const key in value) {
      const v = (value as Record<string, unknown>)[key]
      const escaped = escapeDeep(v)
      if (escaped !== v) (out ??= Object.fromEntries(Object.entries(value)))[key] = escaped
    }
    return (out ?? value) as T
  }
  return value
}

// nodedoc's own colours (chalk): SGR sequences, the only escape sequences it writes itself
const SGR = /\u001b\[[0-9;]*m/y

/**
 * The last pass over a rendered table or text: line breaks and nodedoc's own colours stay,
 * every other control character is escaped (anything a view composed from a value it did not
 * get through escapeDeep).
 */
export function terminalSafe(text: string): string {
  let out = ''
  let last = 0
  CONTROL.lastIndex = 0
  for (let m = CONTROL.exec(text); m; m = CONTROL.exec(text)) {
    const c = m[0]
    if (c === '\n') continue
    if (c === '\u001b') {
      SGR.lastIndex = m.index
      if (SGR.test(text)) {
        CONTROL.lastIndex = SGR.lastIndex
        continue
      }
    }
    out += text.slice(last, m.index) + escapeOne(c)
    last = m.index + 1
  }
  return last === 0 ? text : out + text.slice(last)
}
