/** An answer nodedoc gives on purpose: one line on stderr, then exit with this code. */
export class NodedocError extends Error {
  constructor(message: string, readonly exitCode = 1, readonly detail?: string) {
    super(message)
  }
}
