import {gunzipSync} from 'node:zlib'
import type {Host} from './host.js'

/**
 * Text of a gzip file on the host (kubelet compresses rotated logs). undefined when the file is
 * gone or the Host cannot give bytes; a corrupt or half-written archive is a warning, not a crash.
 */
export async function readGzipText(host: Host, path: string): Promise<string | undefined> {
  const data = await host.readBytes?.(path)
  if (data === undefined) return undefined
  try {
    return gunzipSync(data).toString('utf8')
  } catch (error) {
    host.warnings.add(`gzip:${path}`, `not a readable gzip file (${(error as Error).message})`, path)
    return undefined
  }
}
