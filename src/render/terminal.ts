// Text a pod controls (process names from the kernel log, folder names) reaches a terminal only
// with its control characters shown as \xNN: an escape sequence in a task name must not move
// the cursor or retitle the operator's window.

// C0 controls but tab, DEL, and C1 controls (which some terminals also obey)
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g

export function terminalSafe(text: string): string {
  return text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
}
