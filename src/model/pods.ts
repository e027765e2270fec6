import type {Host} from '../host/host.js'
import type {PodReport} from './types.js'

/** Every pod this node runs (or has traces of), read from host files alone. */
export async function gatherPods(host: Host): Promise<PodReport[]> {
  void host
  return [] // foundation work in progress
}
