import {gunzipSync} from 'node:zlib'
import type {Host} from './host.js'
import {DEFAULT_MAX_BYTES} from './in-root.js'

/**
 * Bytes of a gzip file on the host (kubelet compresses rotated logs), expanded up to the read
 * cap: a file a pod fed can be a compression bomb. undefined when the file is gone or the Host
 * cannot give bytes; a corrupt, half-written or too large archive is a warning, not a crash.
 */
export async function readGzipBytes(host: Host, path: string, maxBytes = DEFAULT_MAX_BYTES): Promise<Buffer | undefined> {
  const data = await host.readBytes?.(path)
  if (data === undefined) return undefined
  try {
    return gunzipSync(data, {maxOutputLength: maxBytes})
  } catch (error) {
    const tooLarge = (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE'
    host.warnings.add(`gzip:${path}`, tooLarge ? `expands past ${maxBytes} bytes: not read` : `not a readable gzip file (${(error as Error).message})`, path)
    return undefined
  }
}
