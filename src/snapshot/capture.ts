import type {Host} from '../host/host.js'
import {RecordingHost} from '../host/recording.js'
import {SNAPSHOT_FORMAT} from '../host/snapshot-layout.js'
import {NodedocError} from '../errors.js'
import {SNAPSHOT_GATHERERS} from './gatherers.js'

/**
 * Runs every command's gather step through a recording host: the snapshot is what nodedoc reads.
 * A snapshot that cannot be written (the folder exists, a full disk) is one answer naming it.
 */
export async function captureSnapshot(live: Host, target: string, version: string, hostRoot: string): Promise<{path: string; failed: string[]}> {
  return record(live, target, version, hostRoot).catch((error: Error) => {
    throw new NodedocError(`cannot write snapshot ${target}: ${error.message}`)
  })
}

async function record(live: Host, target: string, version: string, hostRoot: string): Promise<{path: string; failed: string[]}> {
  const recorder = await RecordingHost.create(live, target)
  try {
    const failed: string[] = []
    for (const {name, gather} of SNAPSHOT_GATHERERS) {
      try {
        await gather(recorder)
      } catch (error) {
        failed.push(`${name}: ${(error as Error).message}`)
      }
    }
    const [hostname, kernel] = await Promise.all([live.readFile('/proc/sys/kernel/hostname'), live.readFile('/proc/sys/kernel/osrelease')])
    const path = await recorder.finish({
      format: SNAPSHOT_FORMAT,
      hostname: hostname?.trim() ?? 'unknown',
      kernel: kernel?.trim() ?? 'unknown',
      capturedAt: new Date().toISOString(),
      nodedocVersion: version,
      hostRoot,
    })
    return {path, failed}
  } catch (error) {
    recorder.abandon()
    throw error
  }
}
