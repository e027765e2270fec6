import {NodedocError} from '../errors.js'
import type {Host} from '../host/host.js'
import type {Prober} from './probe.js'

/**
 * The prober `--probe` uses. The real query/connection from inside a pod's network namespace is
 * `svc --probe`'s (it writes to the node and cleans up after itself); until that is part of this
 * build, --probe says so rather than pretend.
 */
export function proberFor(_host: Host): Prober {
  throw new NodedocError('--probe needs the svc probe, which this build does not have yet; run without --probe', 2)
}
