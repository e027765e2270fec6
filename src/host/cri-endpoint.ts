import {NodedocError} from '../errors.js'

// Where a CRI runtime listens, in the order crictl tries them when no endpoint is given.
export const DEFAULT_RUNTIME_ENDPOINTS = [
  'unix:///run/containerd/containerd.sock',
  'unix:///run/crio/crio.sock',
  'unix:///var/run/cri-dockerd.sock',
]

/** How long one CRI call may take before nodedoc falls back to host files. */
export const CRI_TIMEOUT_MS = 2_000

export class EndpointError extends NodedocError {}

/**
 * The socket path of a runtime endpoint: "unix:///run/x.sock", "unix:/run/x.sock" or a bare
 * "/run/x.sock" (crictl accepts the bare path with a warning). Other schemes (tcp, npipe) are
 * not for a node-local tool.
 */
export function socketPathOf(endpoint: string): string {
  const trimmed = endpoint.trim()
  if (trimmed.startsWith('/')) return trimmed
  const match = /^unix:(?:\/\/)?(\/.*)$/.exec(trimmed)
  if (match) return match[1]
  throw new EndpointError(`runtime endpoint "${endpoint}": only unix sockets are supported (unix:///path/to.sock)`)
}

/** The canonical unix:// form. */
export function endpointOf(socketPath: string): string {
  return `unix://${socketPath}`
}

/** Which runtime a socket path most likely belongs to, for reports. */
export function runtimeOfEndpoint(endpoint: string): 'containerd' | 'cri-o' | 'docker' | 'unknown' {
  if (/containerd/.test(endpoint)) return 'containerd'
  if (/crio/.test(endpoint)) return 'cri-o'
  if (/dockerd|docker/.test(endpoint)) return 'docker'
  return 'unknown'
}
