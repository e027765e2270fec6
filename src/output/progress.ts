// A spinner for long steps (snapshot, sandbox create), and nothing at all otherwise: only on
// a terminal, only once a step has run longer than a moment, never when output is piped or
// captured (CI, `-o json | jq`), and always on stderr so stdout stays the answer.

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']
const FRAME_MS = 80

export interface ProgressOptions {
  /** Where the spinner goes; stderr by default. */
  stream?: NodeJS.WriteStream
  /** Steps that finish sooner show nothing. */
  delayMs?: number
}

export interface Progress {
  /**
   * Changes the text beside the spinner ("reading /proc", "3 of 12 pods"). now: draw it at once,
   * before a long step that holds the event loop (the timer would only fire after it).
   */
  update(label: string, now?: boolean): void
}

/** Whether a spinner may be drawn on this stream: a terminal, and the user did not opt out. */
export function spinnerAllowed(stream: NodeJS.WriteStream = process.stderr, env: NodeJS.ProcessEnv = process.env): boolean {
  if (!stream.isTTY) return false
  if (env.CI || env.NODEDOC_NO_PROGRESS || env.TERM === 'dumb') return false
  return true
}

/**
 * Runs `work`, with a spinner and `label` on a terminal once it has taken longer than
 * delayMs. The line is erased when the step ends, whether it succeeds or throws.
 */
export async function withProgress<T>(label: string, work: (progress: Progress) => Promise<T>, options: ProgressOptions = {}): Promise<T> {
  const stream = options.stream ?? process.stderr
  let text = label
  let draw = () => {}
  const progress: Progress = {
    update: (next, now) => {
      text = next
      if (now) draw()
    },
  }
  if (!spinnerAllowed(stream)) return work(progress)

  let frame = 0
  let drawn = false
  let ticker: NodeJS.Timeout | undefined
  draw = () => {
    const columns = stream.columns || 80
    stream.write(`\r\x1b[2K${FRAMES[frame++ % FRAMES.length]} ${text}`.slice(0, columns + 5))
    drawn = true
  }
  const starter = setTimeout(() => {
    draw()
    ticker = setInterval(draw, FRAME_MS)
    ticker.unref()
  }, options.delayMs ?? 300)
  starter.unref()
  try {
    return await work(progress)
  } finally {
    clearTimeout(starter)
    if (ticker) clearInterval(ticker)
    if (drawn) stream.write('\r\x1b[2K')
  }
}
