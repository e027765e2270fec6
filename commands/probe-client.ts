import {Command} from '@oclif/core'
import {runProbeClient} from '../src/write/probe-client.js'

/** The probing client of `svc --probe` and `trace`, for builds where its script is not a file of its own. */
export default class ProbeClient extends Command {
  static hidden = true
  static summary = 'internal: the probing client (JSON lines on stdin and stdout)'

  async run(): Promise<void> {
    runProbeClient()
    await new Promise(() => undefined)
  }
}
