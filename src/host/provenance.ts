import type {Host} from './host.js'
import {SnapshotHost} from './snapshot.js'

/**
 * Which node an answer is about and when its facts were read: the snapshot's own record, or the
 * live node's hostname (its UTS name, as the kubelet names the node by default) and now.
 */
export async function provenanceOf(host: Host | undefined, now = new Date()): Promise<{node: string | null; capturedAt: string}> {
  if (host instanceof SnapshotHost) return {node: host.meta.hostname || null, capturedAt: host.meta.capturedAt}
  if (!host) return {node: null, capturedAt: now.toISOString()}
  const text = (await host.readFile('/proc/sys/kernel/hostname')) ?? (await host.readFile('/etc/hostname'))
  return {node: text?.trim().split('\n')[0].slice(0, 253) || null, capturedAt: now.toISOString()}
}
