// The worker thread of readFilesInRootParallel (src/host/in-root-threads.ts): claims chunks of
// folders from the shared counter and reads each with readFilesInRoot, the same confined reads
// as the main thread's, until none is left; sends each chunk packed, then null.

import {parentPort, workerData} from 'node:worker_threads'
import {readFilesInRoot} from './in-root.js'
import {type WorkerInput, packChunk} from './in-root-threads.js'

const {root, dirs, names, options, claim, chunk} = workerData as WorkerInput
for (;;) {
  const at = Atomics.add(claim, 0, chunk)
  if (at >= dirs.length) break
  const packed = packChunk(at, readFilesInRoot(root, dirs.slice(at, at + chunk), names, options))
  parentPort!.postMessage(packed, [packed.data.buffer])
}
parentPort!.postMessage(null)
