import type {Host} from './host.js'
import {LiveHost} from './live.js'
import {SnapshotHost} from './snapshot.js'

export interface HostChoice {
  /** --from: a snapshot folder or archive */
  from?: string
  /** --host-root: where the node's filesystem is mounted */
  hostRoot?: string
}

/** The Host the flags ask for: a snapshot when --from is given, else the live machine. */
export async function openHost(choice: HostChoice): Promise<Host> {
  if (choice.from) return SnapshotHost.open(choice.from)
  return new LiveHost(choice.hostRoot || process.env.NODEDOC_HOST_ROOT || '/')
}
