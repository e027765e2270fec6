import {readSync} from 'node:fs'
import {resolve} from 'node:path'
import {NodedocError} from '../errors.js'
import {DEFAULT_MAX_BYTES, InRootError, readFileInRoot} from './in-root.js'

/**
 * A file the operator names on the command line (--iptables-save, --nft, --ipvsadm): a
 * regular file, read up to the cap, or "-" for stdin (also capped). A FIFO or a device is
 * refused at once, unread: /dev/zero would grow without end, a FIFO with no writer would hang.
 * Anything wrong is one NodedocError line naming the file.
 */
export function readNamedFile(file: string, cwd: string, maxBytes = DEFAULT_MAX_BYTES): string {
  if (file === '-') return readStdin(maxBytes)
  try {
    return readFileInRoot('/', resolve(cwd, file), {maxBytes}).toString('utf8')
  } catch (error) {
    if (error instanceof InRootError) {
      const why = error.reason === 'not-regular' ? `${error.message.slice(error.path.length + 2)}; give a file, or - for stdin` : error.message.slice(error.path.length + 2)
      throw new NodedocError(`${file}: ${why}`)
    }
    const code = (error as NodeJS.ErrnoException).code
    throw new NodedocError(`${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message}`)
  }
}

function readStdin(maxBytes: number): string {
  const chunks: Buffer[] = []
  let total = 0
  const buffer = Buffer.allocUnsafe(64 * 1024)
  for (;;) {
    let n: number
    try {
      n = readSync(0, buffer, 0, buffer.length, null)
    } catch (error) {
      // stdin set non-blocking by someone else: wait for it like a blocking read would
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10)
        continue
      }
      throw new NodedocError(`-: cannot read stdin (${(error as Error).message})`)
    }
    if (n === 0) break
    total += n
    if (total > maxBytes) throw new NodedocError(`-: stdin holds more than ${maxBytes} bytes: not read`)
    chunks.push(Buffer.from(buffer.subarray(0, n)))
  }
  return Buffer.concat(chunks).toString('utf8')
}
