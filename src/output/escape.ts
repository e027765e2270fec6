// Text a pod controls (file names, file contents, socket paths) must not drive the operator's
// terminal: an ESC sequence in a file name can retitle the window, move the cursor or rewrite
// what was printed before.

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g
const CONTROL_OR_BACKSLASH = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\\]/g
const NAMED: Record<string, string> = {'\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f', '\v': '\\v', '\\': '\\\\'}

/**
 * C0 controls, DEL, C1 controls and the Unicode line/paragraph separators and bidi overrides
 * written as visible escapes (\x1b, \n, \u202e). `keep` lists controls to pass through
 * (a file's own newlines and tabs, when showing its content). A backslash is doubled only
 * when anything was escaped, so plain names stay as they are.
 */
export function escapeControl(text: string, keep = ''): string {
  const escaped = [...text.matchAll(CONTROL)].some(([ch]) => !keep.includes(ch))
  if (!escaped) return text
  return text.replace(CONTROL_OR_BACKSLASH, (ch) => {
    if (keep.includes(ch)) return ch
    if (NAMED[ch]) return NAMED[ch]
    const code = ch.charCodeAt(0)
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
  })
}
