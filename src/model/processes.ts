import type {Host} from '../host/host.js'
import type {ProcessRecord} from './types.js'

/** Every process on the node, each tied to its pod and container where it has one. */
export async function gatherProcesses(host: Host): Promise<ProcessRecord[]> {
  void host
  return [] // foundation work in progress
}
