// Text a pod or another person controls (resolv.conf words, log lines, names) is shown as data:
// control characters (ESC sequences, carriage returns, bidi overrides) would otherwise act on
// the operator's terminal. jsesc would also escape every non-ASCII letter and quote, so a name
// in another script would read as \u sequences: only what acts on a terminal is escaped here.

const ACTING = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g

/** The text with every character that acts on a terminal written as \xNN or \uNNNN. */
export function printable(text: string): string {
  return text.replace(ACTING, (c) => {
    const code = c.charCodeAt(0)
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
  })
}

/** One line of untrusted text, escaped and cut to `max` characters. */
export function printableLine(text: string, max = 200): string {
  const line = printable(text.replace(/\n/g, '\\n'))
  return line.length > max ? `${line.slice(0, max - 1)}…` : line
}
