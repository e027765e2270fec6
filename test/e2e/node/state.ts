import {mkdir, readFile, rename, writeFile} from 'node:fs/promises'
import {NODE_DIR, STATE_FILE} from './layout.js'
import type {QosClass} from './resources.js'

/**
 * Everything the test node made, written down as soon as it exists, so that teardown (even
 * a later `npm run node:down` after a crash) removes exactly that and nothing else.
 */
export interface NodeState {
  startedAt: string
  containerdPid: number | null
  /** host paths that did not exist before up: removed whole (containerd's) or when empty (shared roots) */
  createdRoots: string[]
  ipForwardBefore: string | null
  bridgeExistedBefore: boolean
  nftTablesBefore: string[]
  pods: PodState[]
}

export interface PodState {
  name: string
  namespace: string
  uid: string
  qos: QosClass
  hostNetwork: boolean
  cgroupParent: string
  /** every cgroup dir made for the pod and its QoS parents, deepest last */
  cgroupDirs: string[]
  sandboxId: string | null
  netnsPath: string | null
  ip: string | null
  kubeletDir: string
  logDir: string
  mounts: string[]
  logLinks: string[]
  containers: Array<{name: string; id: string | null; logPath: string}>
}

export function emptyState(): NodeState {
  return {startedAt: new Date().toISOString(), containerdPid: null, createdRoots: [], ipForwardBefore: null, bridgeExistedBefore: false, nftTablesBefore: [], pods: []}
}

export async function saveState(state: NodeState): Promise<void> {
  await mkdir(NODE_DIR, {recursive: true})
  await writeFile(STATE_FILE + '.tmp', JSON.stringify(state, null, 2) + '\n')
  await rename(STATE_FILE + '.tmp', STATE_FILE)
}

export async function loadState(): Promise<NodeState | undefined> {
  try {
    return JSON.parse(await readFile(STATE_FILE, 'utf8')) as NodeState
  } catch {
    return undefined
  }
}
