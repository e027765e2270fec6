// readFilesInRoot over two threads, for a scan of thousands of processes: the confined reads
// are one system call after another (20 per process), and a node has a second core. A worker
// thread (src/host/in-root-worker.ts) runs the very same readFilesInRoot, with the same checks
// per file, on the folders it claims; this thread reads the others meanwhile. Both claim a chunk
// of folders at a time from one shared counter, so whichever thread the machine runs more does
// more. A worker takes 50-150 ms to start (a V8 isolate and Node's bootstrap), which this thread
// spends reading: below SPLIT_AT folders, or without a core to spare, the reads stay on this
// thread alone.
//
// The worker's answer for a chunk is one transferred buffer holding every file's bytes, plus
// each error's reason and code, rebuilt here as the InRootError or fs error readFilesInRoot
// itself would give. A worker that cannot start, fails or exits early costs nothing but time:
// whatever it did not deliver is read here.

import {existsSync} from 'node:fs'
import {createRequire} from 'node:module'
import {availableParallelism, loadavg} from 'node:os'
import {fileURLToPath} from 'node:url'
import {InRootError, type ReadInRootOptions, type Refusal, readFilesInRoot} from './in-root.js'

/** Folders below which one thread reads them all: a worker's start costs what ~300 processes' reads cost. */
export const SPLIT_AT = 1000
/** Folders claimed at a time: small enough that neither thread waits long for the other's last chunk. */
export const CHUNK = 32

/** What the worker is handed. `claim` is the shared counter of the next folder to claim. */
export interface WorkerInput {
  root: string
  dirs: string[]
  names: string[]
  options: ReadInRootOptions
  claim: Int32Array
  chunk: number
}

/** An error as the worker sends it: an InRootError's reason and path, or an fs error's code. */
type SentError = {reason?: Refusal; path?: string; code?: string; message: string}

/** One chunk's files: every file's bytes in `data`, in order; a length of -1 marks the next error. */
export interface Chunk {
  at: number
  count: number
  data: Uint8Array<ArrayBuffer>
  lengths: Int32Array
  errors: SentError[]
}

/** Packs a chunk of readFilesInRoot's answer for postMessage (data's buffer is transferred). */
export function packChunk(at: number, files: Array<Array<Buffer | Error>>): Chunk {
  let total = 0
  let slots = 0
  for (const folder of files) for (const file of folder) {
    slots++
    if (!(file instanceof Error)) total += file.length
  }
  const data = new Uint8Array(total)
  const lengths = new Int32Array(slots)
  const errors: SentError[] = []
  let offset = 0
  let slot = 0
  for (const folder of files) for (const file of folder) {
    if (file instanceof Error) {
      lengths[slot++] = -1
      errors.push(file instanceof InRootError ? {reason: file.reason, path: file.path, message: file.message} : {code: (file as NodeJS.ErrnoException).code, message: file.message})
    } else {
      data.set(file, offset)
      offset += file.length
      lengths[slot++] = file.length
    }
  }
  return {at, count: files.length, data, lengths, errors}
}

/** The files of a packed chunk into out (from out[chunk.at]), each a view of the one buffer. */
export function unpackChunk(chunk: Chunk, width: number, out: Array<Array<Buffer | Error>>): void {
  const bytes = Buffer.from(chunk.data.buffer, chunk.data.byteOffset, chunk.data.byteLength)
  let offset = 0
  let slot = 0
  let error = 0
  for (let i = 0; i < chunk.count; i++) {
    const folder = new Array<Buffer | Error>(width)
    for (let k = 0; k < width; k++) {
      const length = chunk.lengths[slot++]
      if (length < 0) {
        folder[k] = rebuild(chunk.errors[error++])
      } else {
        folder[k] = bytes.subarray(offset, offset + length)
        offset += length
      }
    }
    out[chunk.at + i] = folder
  }
}

function rebuild(sent: SentError): Error {
  if (sent.reason !== undefined && sent.path !== undefined) return new InRootError(sent.reason, sent.path, sent.message.slice(sent.path.length + 2))
  const error: NodeJS.ErrnoException = new Error(sent.message)
  if (sent.code !== undefined) error.code = sent.code
  return error
}

/**
 * readFilesInRoot(root, dirs, names, options), the same answer, with the reads shared with a
 * worker thread when there are SPLIT_AT folders or more and a core to spare.
 */
export async function readFilesInRootParallel(root: string, dirs: string[], names: string[], options: ReadInRootOptions = {}): Promise<Array<Array<Buffer | Error>>> {
  if (!sharesReads(dirs.length)) return readFilesInRoot(root, dirs, names, options)
  return readFilesInRootShared(root, dirs, names, options, workerScript())
}

/** Whether readFilesInRootParallel would share a call of this many folders with a worker thread. */
export function sharesReads(folders: number): boolean {
  return folders >= SPLIT_AT && coreToSpare()
}

/**
 * Whether a second thread would find a core of its own: the last minute's load average leaves
 * one idle beside this thread. On a busy machine the worker only competes with this thread and
 * the machine's other work, and its start (80-120 ms CPU measured there) is lost.
 */
function coreToSpare(): boolean {
  // NODEDOC_READ_THREADS: 1 never shares, 2 shares whatever the load
  const threads = process.env.NODEDOC_READ_THREADS
  if (threads === '1' || threads === '2') return threads === '2'
  return loadavg()[0] < availableParallelism() - 1
}

/** readFilesInRoot's answer, the reads shared with the worker thread running `worker` (a script, or source to eval). */
export async function readFilesInRootShared(root: string, dirs: string[], names: string[], options: ReadInRootOptions, worker: URL | string | undefined): Promise<Array<Array<Buffer | Error>>> {
  const out = new Array<Array<Buffer | Error>>(dirs.length)
  const claim = new Int32Array(new SharedArrayBuffer(4))
  const helped = startWorker(worker, {root, dirs, names, options, claim, chunk: CHUNK}, names.length, out)
  for (;;) {
    const at = Atomics.add(claim, 0, CHUNK)
    if (at >= dirs.length) break
    const files = readFilesInRoot(root, dirs.slice(at, at + CHUNK), names, options)
    for (let i = 0; i < files.length; i++) out[at + i] = files[i]
  }
  await helped
  // what a failed worker claimed and never delivered
  for (let at = 0; at < dirs.length; at += CHUNK) {
    if (out[at] !== undefined) continue
    const files = readFilesInRoot(root, dirs.slice(at, at + CHUNK), names, options)
    for (let i = 0; i < files.length; i++) out[at + i] = files[i]
  }
  return out
}

/**
 * Starts the worker; the promise settles when the worker has delivered every chunk it
 * claimed, or failed. Undefined script (none built here): no worker, this thread reads alone.
 */
function startWorker(script: URL | string | undefined, input: WorkerInput, width: number, out: Array<Array<Buffer | Error>>): Promise<void> {
  if (script === undefined) return Promise.resolve()
  return new Promise<void>((resolve) => {
    let worker
    try {
      // loaded here only: node:worker_threads costs a few ms to load, which no other run should pay
      const {Worker} = createRequire(import.meta.url)('node:worker_threads') as typeof import('node:worker_threads')
      worker = typeof script === 'string' ? new Worker(script, {eval: true, workerData: input, stdout: true, stderr: true}) : new Worker(script, {workerData: input, stdout: true, stderr: true})
    } catch {
      resolve()
      return
    }
    const done = worker
    done.on('message', (chunk: Chunk | null) => {
      if (chunk !== null) return unpackChunk(chunk, width, out)
      // it ends on its own now; the process need not wait for that
      done.unref()
      resolve()
    })
    // a worker that fails leaves its claimed chunks unread: the caller reads them
    done.on('error', () => resolve())
    done.on('exit', () => resolve())
  })
}

/**
 * The worker's script: in-root-worker.js beside this module (tsc's output), the bundle's
 * nodedoc/in-root-worker.cjs beside the command's file, or, in the single executable, that
 * file's text from the executable's assets (run as eval). Undefined when there is none.
 */
function workerScript(): URL | string | undefined {
  const here = import.meta.url
  const file = new URL(here.endsWith('.cjs') ? './in-root-worker.cjs' : './in-root-worker.js', here)
  if (file.protocol === 'file:' && existsSync(fileURLToPath(file))) return file
  return seaAsset('nodedoc/in-root-worker.cjs')
}

function seaAsset(name: string): string | undefined {
  try {
    const sea = process.getBuiltinModule?.('node:sea') as typeof import('node:sea') | undefined
    return sea?.isSea() ? sea.getAsset(name, 'utf8') : undefined
  } catch {
    return undefined
  }
}
