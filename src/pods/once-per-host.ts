import type {Host} from '../host/host.js'

/**
 * A gather step that runs once per Host, however many parts of one command ask for it: `net`
 * and `pod` both want the node's links and routes, doctor's checks all want the process list.
 * A new Host (a new command, a snapshot recording) reads afresh.
 */
export function oncePerHost<T>(gather: (host: Host) => Promise<T>): (host: Host) => Promise<T> {
  const done = new WeakMap<Host, Promise<T>>()
  return (host) => {
    let result = done.get(host)
    if (!result) {
      result = gather(host)
      done.set(host, result)
    }
    return result
  }
}
