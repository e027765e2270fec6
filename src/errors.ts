// The one error class an answer travels in. Each family names its own (SandboxError,
// CompareError, RulesReadError, ...) by extending it; the base command prints any of them as
// one line on stderr and exits with its code, so no command translates errors itself.

/** An answer nodedoc gives on purpose: one line on stderr, then exit with this code. */
export class NodedocError extends Error {
  constructor(message: string, readonly exitCode = 1, readonly detail?: string) {
    super(message)
    this.name = new.target.name
  }
}
